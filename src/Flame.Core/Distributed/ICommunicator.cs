using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// A group of processes that exchange tensors (MPI's communicator, NCCL's ncclComm_t). Every rank of the group
/// calls the same collectives in the same order. Tensors are updated in place or returned new, on the device the
/// communicator serves (CPU tensors for MPI, CUDA tensors for NCCL).
/// </summary>
public interface ICommunicator : IDisposable
{
    int Rank { get; }
    int Size { get; }

    /// <summary>Sums <paramref name="tensor"/> over the group, in place (every rank ends with the sum).</summary>
    void AllReduceSum(Tensor tensor);

    /// <summary>
    /// Rows (dim 0) of <paramref name="send"/> go to the ranks in order, <paramref name="sendRows"/>[r] rows to rank r;
    /// the result holds <paramref name="receiveRows"/>[r] rows from each rank r, in rank order (MPI_Alltoallv).
    /// </summary>
    Tensor AllToAll(Tensor send, long[] sendRows, long[] receiveRows);

    /// <summary>
    /// Sums <paramref name="tensor"/> over the group and returns rank r's r-th block of it (dim 0 cut into Size equal
    /// blocks, so dim 0 must divide by the group size): the inverse layout of <see cref="AllGather"/> (MPI_Reduce_scatter_block).
    /// </summary>
    Tensor ReduceScatter(Tensor tensor);

    /// <summary>Every rank's <paramref name="tensor"/> (same shape everywhere) concatenated along dim 0 in rank order.</summary>
    Tensor AllGather(Tensor tensor);

    /// <summary>Overwrites <paramref name="tensor"/> with the root rank's values.</summary>
    void Broadcast(Tensor tensor, int root);

    void Barrier();

    /// <summary>The ranks with the same <paramref name="color"/> as a new group, ordered by <paramref name="key"/> (MPI_Comm_split).</summary>
    ICommunicator Split(int color, int key);
}
