namespace Flame.Data.Indexed;

/// <summary>
/// The fixed parts of Megatron-LM's MMIDIDX index: the 9-byte magic, version 1, and the 34-byte header
/// (magic, u64 version, u8 dtype code, u64 sequence count, u64 document count) before the arrays
/// (int32 lengths, int64 byte pointers, int64 document indices), all little-endian.
/// </summary>
public static class IndexedDatasetFormat
{
    public static ReadOnlySpan<byte> Magic => "MMIDIDX\0\0"u8;
    public const ulong Version = 1;
    public const int HeaderSize = 9 + 8 + 1 + 8 + 8;

    public static string IndexPath(string prefix) => prefix + ".idx";
    public static string DataPath(string prefix) => prefix + ".bin";

    /// <summary>Accepts "PREFIX", "PREFIX.bin" or "PREFIX.idx", as users type all three.</summary>
    public static string NormalizePrefix(string path) =>
        path.EndsWith(".idx", StringComparison.Ordinal) || path.EndsWith(".bin", StringComparison.Ordinal) ? path[..^4] : path;
}
