using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// An NCCL communicator over CUDA tensors, paired with the MPI communicator of the same ranks: MPI launches,
/// carries NCCL's unique id and splits groups; NCCL moves the tensors. Collectives are queued on the legacy default
/// stream, where TorchSharp queues its kernels, so they order with the step's other work without a host sync.
/// </summary>
public sealed unsafe class NcclCommunicator : ICommunicator
{
    readonly NcclLibrary _nccl;
    readonly MpiCommunicator _mpi;
    nint _comm;
    const nint Stream = 0;

    public int Rank => _mpi.Rank;
    public int Size => _mpi.Size;

    public NcclCommunicator(MpiCommunicator mpi)
    {
        _nccl = NcclLibrary.Load();
        _mpi = mpi;
        var id = new NcclUniqueId();
        if (mpi.Rank == 0) _nccl.Check(_nccl.GetUniqueId(&id), "ncclGetUniqueId");
        mpi.Broadcast(new Span<byte>(id.Bytes, 128), root: 0);
        nint comm;
        _nccl.Check(_nccl.CommInitRank(&comm, mpi.Size, id, mpi.Rank), "ncclCommInitRank");
        _comm = comm;
    }

    static int TypeOf(ScalarType type) => type switch
    {
        ScalarType.Float32 => NcclLibrary.Float32,
        ScalarType.Float64 => NcclLibrary.Float64,
        ScalarType.Int64 => NcclLibrary.Int64,
        ScalarType.BFloat16 => NcclLibrary.BFloat16,
        _ => throw new NotSupportedException($"NCCL sum of {type} tensors"),
    };

    static void RequireCuda(Tensor t)
    {
        if (t.device_type != DeviceType.CUDA)
            throw new InvalidOperationException($"NCCL collectives take CUDA tensors (got {t.device}); CPU runs use MpiCommunicator");
    }

    public void AllReduceSum(Tensor tensor)
    {
        RequireCuda(tensor);
        if (tensor.numel() == 0) return;
        var work = tensor.is_contiguous() ? tensor : tensor.contiguous();
        var p = TensorMemory.Address(work);
        _nccl.Check(_nccl.AllReduce(p, p, (nuint)work.numel(), TypeOf(work.dtype), NcclLibrary.Sum, _comm, Stream), "ncclAllReduce");
        if (!ReferenceEquals(work, tensor)) { tensor.copy_(work); work.Dispose(); }
    }

    public Tensor ReduceScatter(Tensor tensor)
    {
        RequireCuda(tensor);
        var (source, result) = ReduceScatterBlock.Buffers(tensor, Size);
        if (result.numel() > 0)
            _nccl.Check(_nccl.ReduceScatter(TensorMemory.Address(source), TensorMemory.Address(result), (nuint)result.numel(),
                TypeOf(source.dtype), NcclLibrary.Sum, _comm, Stream), "ncclReduceScatter");
        if (!ReferenceEquals(source, tensor)) source.Dispose();
        return result;
    }

    /// <summary>All-to-all as grouped point-to-point sends and receives (NCCL has no alltoallv; this is how PyTorch builds it).</summary>
    public Tensor AllToAll(Tensor send, long[] sendRows, long[] receiveRows)
    {
        RequireCuda(send);
        var source = send.contiguous();
        long rowBytes = send.shape.Skip(1).Aggregate(1L, (a, b) => a * b) * send.ElementSize;
        var shape = send.shape.ToArray();
        shape[0] = receiveRows.Sum();
        var result = empty(shape, dtype: send.dtype, device: send.device);
        nint sendBase = TensorMemory.Address(source), receiveBase = TensorMemory.Address(result);
        _nccl.Check(_nccl.GroupStart(), "ncclGroupStart");
        long sendAt = 0, receiveAt = 0;
        for (int r = 0; r < Size; r++)
        {
            if (sendRows[r] > 0)
                _nccl.Check(_nccl.Send(sendBase + (nint)sendAt, (nuint)(sendRows[r] * rowBytes), NcclLibrary.Uint8, r, _comm, Stream), "ncclSend");
            if (receiveRows[r] > 0)
                _nccl.Check(_nccl.Recv(receiveBase + (nint)receiveAt, (nuint)(receiveRows[r] * rowBytes), NcclLibrary.Uint8, r, _comm, Stream), "ncclRecv");
            sendAt += sendRows[r] * rowBytes;
            receiveAt += receiveRows[r] * rowBytes;
        }
        _nccl.Check(_nccl.GroupEnd(), "ncclGroupEnd");
        if (!ReferenceEquals(source, send)) source.Dispose();
        return result;
    }

    public Tensor AllGather(Tensor tensor)
    {
        RequireCuda(tensor);
        var source = tensor.contiguous();
        var shape = tensor.shape.Length == 0 ? new long[] { 1 } : tensor.shape.ToArray();
        shape[0] *= Size;
        var result = empty(shape, dtype: tensor.dtype, device: tensor.device);
        _nccl.Check(_nccl.AllGather(TensorMemory.Address(source), TensorMemory.Address(result), (nuint)(tensor.numel() * tensor.ElementSize),
            NcclLibrary.Uint8, _comm, Stream), "ncclAllGather");
        if (!ReferenceEquals(source, tensor)) source.Dispose();
        return result;
    }

    public void Broadcast(Tensor tensor, int root)
    {
        RequireCuda(tensor);
        var work = tensor.is_contiguous() ? tensor : tensor.contiguous();
        var p = TensorMemory.Address(work);
        _nccl.Check(_nccl.Broadcast(p, p, (nuint)(work.numel() * work.ElementSize), NcclLibrary.Uint8, root, _comm, Stream), "ncclBroadcast");
        if (!ReferenceEquals(work, tensor)) { tensor.copy_(work); work.Dispose(); }
    }

    public void Barrier() => _mpi.Barrier();

    public ICommunicator Split(int color, int key) => new NcclCommunicator((MpiCommunicator)_mpi.Split(color, key));

    public void Dispose()
    {
        if (_comm != 0) _nccl.CommDestroy(_comm);
        _comm = 0;
    }
}
