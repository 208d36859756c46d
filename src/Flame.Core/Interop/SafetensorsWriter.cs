using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// Writes one safetensors file: header length, header (tensors in the given order, contiguous offsets,
/// "__metadata__" first), then each tensor's bytes, contiguous, little-endian, on the CPU. The file is
/// written under a temporary name and renamed into place when complete.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<PendingTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian");
        var duplicate = tensors.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"tensor '{duplicate.Key}' is listed twice");
        var entries = new List<SafetensorsEntry>(tensors.Count);
        long offset = 0;
        foreach (var t in tensors)
        {
            entries.Add(new SafetensorsEntry(t.Name, t.DType, t.Shape, offset, offset + t.ByteCount));
            offset += t.ByteCount;
        }
        var header = SafetensorsHeader.Serialize(entries, metadata);
        Output.OutputFiles.Write(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var length = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var t in tensors) WriteData(stream, t);
        });
    }

    static void WriteData(Stream stream, PendingTensor pending)
    {
        using var scope = NewDisposeScope();
        var tensor = pending.Produce();
        if (!tensor.shape.SequenceEqual(pending.Shape))
            throw new InvalidOperationException($"tensor '{pending.Name}' was declared [{string.Join(", ", pending.Shape)}] but produced [{string.Join(", ", tensor.shape)}]");
        var data = tensor.to(pending.DType).cpu().contiguous();
        TensorBytes.CopyTo(data, stream);
    }
}
