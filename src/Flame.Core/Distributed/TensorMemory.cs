using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// The address of a tensor's first element (on its device), which MPI and NCCL read and write directly.
/// TorchSharp uses the same native export for its own raw reads; it has no public data pointer for CUDA tensors.
/// </summary>
static class TensorMemory
{
    [DllImport("LibTorchSharp")]
    static extern nint THSTensor_data(nint handle);

    public static nint Address(Tensor tensor)
    {
        if (!tensor.is_contiguous()) throw new InvalidOperationException("collectives need contiguous tensors");
        return THSTensor_data(tensor.Handle);
    }
}
