using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// A tensor to be written: name, dtype and shape known up front (the header comes first), its data made
/// only when it is written, so exporting a large model never holds a second copy of it.
/// </summary>
public sealed record PendingTensor(string Name, ScalarType DType, long[] Shape, Func<Tensor> Produce)
{
    public long ByteCount => Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsDType.SizeOf(DType);

    /// <summary>A tensor that already exists (converted to <paramref name="dtype"/> when written).</summary>
    public static PendingTensor Of(string name, Tensor tensor, ScalarType? dtype = null) =>
        new(name, dtype ?? tensor.dtype, tensor.shape, () => tensor);
}
