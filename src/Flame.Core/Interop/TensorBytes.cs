using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// Raw copies between a contiguous CPU tensor and memory or a stream, through TorchSharp's byte span in
/// pieces under 1 GiB (a span cannot reach past 2 GiB, and one expert stack can).
/// </summary>
static unsafe class TensorBytes
{
    const long ChunkBytes = 1L << 30;

    public static void CopyFrom(byte* source, Tensor target)
    {
        foreach (var (piece, offset, length) in Pieces(target))
            using (piece) piece.bytes = new Span<byte>(source + offset, length);
    }

    /// <summary>Fills a contiguous CPU tensor from a stream (EndOfStreamException when it ends early).</summary>
    public static void CopyFrom(Stream source, Tensor target)
    {
        foreach (var (piece, _, length) in Pieces(target))
            using (piece)
            {
                var buffer = new byte[length];
                source.ReadExactly(buffer);
                piece.bytes = buffer;
            }
    }

    public static void CopyTo(Tensor source, Stream stream)
    {
        foreach (var (piece, _, _) in Pieces(source))
            using (piece) stream.Write(piece.bytes);
    }

    static IEnumerable<(Tensor Piece, long Offset, int Length)> Pieces(Tensor tensor)
    {
        if (!tensor.is_contiguous() || tensor.device_type != DeviceType.CPU)
            throw new InvalidOperationException("raw copies need a contiguous CPU tensor");
        long elements = tensor.numel(), size = tensor.element_size();
        if (elements == 0) yield break;
        using var flat = tensor.view(-1);
        long perChunk = ChunkBytes / size;
        for (long start = 0; start < elements; start += perChunk)
        {
            long count = Math.Min(perChunk, elements - start);
            yield return (flat.narrow(0, start, count), start * size, (int)(count * size));
        }
    }
}
