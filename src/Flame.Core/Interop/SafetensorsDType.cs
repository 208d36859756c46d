using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// The element types of the safetensors format by their header names (F32, BF16, I64, ...), with their
/// torch types and sizes. Data is little-endian, which is what this platform's hosts are.
/// </summary>
public static class SafetensorsDType
{
    static readonly (string Name, ScalarType Type, int Size)[] Known =
    [
        ("F64", ScalarType.Float64, 8), ("F32", ScalarType.Float32, 4), ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2), ("I64", ScalarType.Int64, 8), ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2), ("I8", ScalarType.Int8, 1), ("U8", ScalarType.Byte, 1), ("BOOL", ScalarType.Bool, 1),
    ];

    public static IEnumerable<string> Names => Known.Select(k => k.Name);

    public static bool TryParse(string name, out ScalarType type)
    {
        foreach (var k in Known)
            if (k.Name == name) { type = k.Type; return true; }
        type = default;
        return false;
    }

    public static string NameOf(ScalarType type)
    {
        foreach (var k in Known)
            if (k.Type == type) return k.Name;
        throw new UserError($"dtype {type} cannot be written to safetensors; supported: {string.Join(", ", Names)}");
    }

    public static int SizeOf(ScalarType type)
    {
        foreach (var k in Known)
            if (k.Type == type) return k.Size;
        throw new UserError($"dtype {type} has no safetensors equivalent");
    }
}
