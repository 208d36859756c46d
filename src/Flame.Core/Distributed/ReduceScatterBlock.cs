using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>What MPI's and NCCL's reduce-scatter read and fill: the whole tensor (contiguous) and one rank's equal block of dim 0.</summary>
static class ReduceScatterBlock
{
    public static (Tensor Source, Tensor Result) Buffers(Tensor tensor, int size)
    {
        if (tensor.dim() == 0 || tensor.shape[0] % size != 0)
            throw new ArgumentException($"reduce-scatter over {size} ranks needs dim 0 divisible by {size} (got [{string.Join(", ", tensor.shape)}])");
        var shape = tensor.shape.ToArray();
        shape[0] /= size;
        return (tensor.contiguous(), empty(shape, dtype: tensor.dtype, device: tensor.device));
    }
}
