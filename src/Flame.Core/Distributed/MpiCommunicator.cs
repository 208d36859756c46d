using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// An MPI communicator over CPU tensors: collectives run on the tensors' own memory (contiguous tensors are
/// used in place, others through a contiguous copy). Data moves as bytes, sums in the tensor's type.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    readonly MpiLibrary _mpi;
    nint _comm;
    readonly bool _owned;

    public int Rank { get; }
    public int Size { get; }

    MpiCommunicator(MpiLibrary mpi, nint comm, bool owned)
    {
        _mpi = mpi;
        _comm = comm;
        _owned = owned;
        int rank, size;
        MpiLibrary.Check(mpi.CommRank(comm, &rank), "MPI_Comm_rank");
        MpiLibrary.Check(mpi.CommSize(comm, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    /// <summary>MPI_COMM_WORLD, initialising MPI (loaded only now: a single process never needs it).</summary>
    public static MpiCommunicator World()
    {
        var mpi = MpiLibrary.Load();
        mpi.EnsureInitialised();
        return new MpiCommunicator(mpi, mpi.CommWorld, owned: false);
    }

    /// <summary>Ends the job from any rank (MPI_Abort): mpirun stops every other rank.</summary>
    public void Abort(int code) => _mpi.Abort(_comm, code);

    static void RequireCpu(Tensor t)
    {
        if (t.device_type != DeviceType.CPU)
            throw new InvalidOperationException($"MPI collectives take CPU tensors (got {t.device}); CUDA runs use NcclCommunicator");
    }

    nint ReduceType(ScalarType type) => type switch
    {
        ScalarType.Float32 => _mpi.Float,
        ScalarType.Float64 => _mpi.Double,
        ScalarType.Int64 => _mpi.Int64,
        _ => throw new NotSupportedException($"MPI sum of {type} tensors"),
    };

    public void AllReduceSum(Tensor tensor)
    {
        RequireCpu(tensor);
        if (tensor.numel() == 0) return;
        var work = tensor.is_contiguous() ? tensor : tensor.contiguous();
        MpiLibrary.Check(_mpi.Allreduce(MpiLibrary.InPlace, TensorMemory.Address(work), checked((int)work.numel()),
            ReduceType(work.dtype), _mpi.Sum, _comm), "MPI_Allreduce");
        if (!ReferenceEquals(work, tensor)) { tensor.copy_(work); work.Dispose(); }
    }

    public Tensor ReduceScatter(Tensor tensor)
    {
        RequireCpu(tensor);
        var (source, result) = ReduceScatterBlock.Buffers(tensor, Size);
        if (result.numel() > 0)
            MpiLibrary.Check(_mpi.ReduceScatterBlock(TensorMemory.Address(source), TensorMemory.Address(result), checked((int)result.numel()),
                ReduceType(source.dtype), _mpi.Sum, _comm), "MPI_Reduce_scatter_block");
        if (!ReferenceEquals(source, tensor)) source.Dispose();
        return result;
    }

    public Tensor AllToAll(Tensor send, long[] sendRows, long[] receiveRows)
    {
        RequireCpu(send);
        if (sendRows.Length != Size || receiveRows.Length != Size) throw new ArgumentException("one split per rank");
        var source = send.contiguous();
        long rowBytes = send.shape.Skip(1).Aggregate(1L, (a, b) => a * b) * send.ElementSize;
        var shape = send.shape.ToArray();
        shape[0] = receiveRows.Sum();
        var result = empty(shape, dtype: send.dtype);
        int* sendCounts = stackalloc int[Size], sendOffsets = stackalloc int[Size], receiveCounts = stackalloc int[Size], receiveOffsets = stackalloc int[Size];
        long sendAt = 0, receiveAt = 0;
        for (int r = 0; r < Size; r++)
        {
            sendCounts[r] = checked((int)(sendRows[r] * rowBytes));
            sendOffsets[r] = checked((int)sendAt);
            receiveCounts[r] = checked((int)(receiveRows[r] * rowBytes));
            receiveOffsets[r] = checked((int)receiveAt);
            sendAt += sendCounts[r];
            receiveAt += receiveCounts[r];
        }
        MpiLibrary.Check(_mpi.Alltoallv(TensorMemory.Address(source), sendCounts, sendOffsets, _mpi.Byte,
            TensorMemory.Address(result), receiveCounts, receiveOffsets, _mpi.Byte, _comm), "MPI_Alltoallv");
        if (!ReferenceEquals(source, send)) source.Dispose();
        return result;
    }

    public Tensor AllGather(Tensor tensor)
    {
        RequireCpu(tensor);
        var source = tensor.contiguous();
        var shape = tensor.shape.ToArray();
        if (shape.Length == 0) shape = [1];
        shape[0] *= Size;
        var result = empty(shape, dtype: tensor.dtype);
        int bytes = checked((int)(tensor.numel() * tensor.ElementSize));
        MpiLibrary.Check(_mpi.Allgather(TensorMemory.Address(source), bytes, _mpi.Byte, TensorMemory.Address(result), bytes, _mpi.Byte, _comm), "MPI_Allgather");
        if (!ReferenceEquals(source, tensor)) source.Dispose();
        return result;
    }

    public void Broadcast(Tensor tensor, int root)
    {
        RequireCpu(tensor);
        var work = tensor.is_contiguous() ? tensor : tensor.contiguous();
        MpiLibrary.Check(_mpi.Bcast(TensorMemory.Address(work), checked((int)(work.numel() * work.ElementSize)), _mpi.Byte, root, _comm), "MPI_Bcast");
        if (!ReferenceEquals(work, tensor)) { tensor.copy_(work); work.Dispose(); }
    }

    /// <summary>Broadcasts raw bytes (NCCL's unique id travels this way).</summary>
    public void Broadcast(Span<byte> bytes, int root)
    {
        fixed (byte* p = bytes)
            MpiLibrary.Check(_mpi.Bcast((nint)p, bytes.Length, _mpi.Byte, root, _comm), "MPI_Bcast");
    }

    public void Barrier() => MpiLibrary.Check(_mpi.BarrierCall(_comm), "MPI_Barrier");

    public ICommunicator Split(int color, int key)
    {
        nint group;
        MpiLibrary.Check(_mpi.CommSplit(_comm, color, key, &group), "MPI_Comm_split");
        return new MpiCommunicator(_mpi, group, owned: true);
    }

    public void Dispose()
    {
        if (_owned && _comm != 0)
        {
            var comm = _comm;
            _mpi.CommFree(&comm);
        }
        _comm = 0;
    }
}
