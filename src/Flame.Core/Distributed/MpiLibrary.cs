using System.Runtime.InteropServices;

namespace Flame.Distributed;

/// <summary>
/// The few MPI calls Flame needs, bound at run time from OpenMPI's libmpi.so.40 (Debian's libopenmpi3) through
/// function pointers, so a single-process run never loads MPI. OpenMPI's handles (MPI_COMM_WORLD, MPI_FLOAT,
/// MPI_SUM, ...) are the addresses of exported globals (ompi_mpi_comm_world, ...), as mpi.h defines them.
/// </summary>
public sealed unsafe class MpiLibrary
{
    public const string FileName = "libmpi.so.40";
    public const string Package = "openmpi-bin libopenmpi3";
    const int ThreadSerialized = 2; // MPI_THREAD_SERIALIZED: one thread at a time (autograd may run the backward's collectives)
    public static readonly nint InPlace = 1; // OpenMPI's MPI_IN_PLACE

    static MpiLibrary? _loaded;

    public readonly delegate* unmanaged<int*, nint, int, int*, int> InitThread;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int> FinalizeCall;
    public readonly delegate* unmanaged<nint, int*, int> CommRank;
    public readonly delegate* unmanaged<nint, int*, int> CommSize;
    public readonly delegate* unmanaged<nint, int, int, nint*, int> CommSplit;
    public readonly delegate* unmanaged<nint*, int> CommFree;
    public readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<nint, nint, int, nint, nint, nint, int> ReduceScatterBlock;
    public readonly delegate* unmanaged<nint, int*, int*, nint, nint, int*, int*, nint, nint, int> Alltoallv;
    public readonly delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int> Allgather;
    public readonly delegate* unmanaged<nint, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<nint, int> BarrierCall;
    public readonly delegate* unmanaged<nint, int, int> Abort;

    public readonly nint CommWorld, Byte, Float, Double, Int64, Sum;

    MpiLibrary(nint library)
    {
        nint Export(string name) => NativeLibrary.GetExport(library, name);
        InitThread = (delegate* unmanaged<int*, nint, int, int*, int>)Export("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        FinalizeCall = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        CommSplit = (delegate* unmanaged<nint, int, int, nint*, int>)Export("MPI_Comm_split");
        CommFree = (delegate* unmanaged<nint*, int>)Export("MPI_Comm_free");
        Allreduce = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        ReduceScatterBlock = (delegate* unmanaged<nint, nint, int, nint, nint, nint, int>)Export("MPI_Reduce_scatter_block");
        Alltoallv = (delegate* unmanaged<nint, int*, int*, nint, nint, int*, int*, nint, nint, int>)Export("MPI_Alltoallv");
        Allgather = (delegate* unmanaged<nint, int, nint, nint, int, nint, nint, int>)Export("MPI_Allgather");
        Bcast = (delegate* unmanaged<nint, int, nint, int, nint, int>)Export("MPI_Bcast");
        BarrierCall = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        Abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        CommWorld = Export("ompi_mpi_comm_world");
        Byte = Export("ompi_mpi_byte");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Int64 = Export("ompi_mpi_int64_t");
        Sum = Export("ompi_mpi_op_sum");
    }

    /// <summary>Loads libmpi once; a missing library is one line naming the packages to install.</summary>
    public static MpiLibrary Load()
    {
        if (_loaded is not null) return _loaded;
        if (!NativeLibrary.TryLoad(FileName, out var handle))
            throw new UserError($"launched as several ranks, but {FileName} (OpenMPI) is not installed: apt-get install {Package}");
        try { return _loaded = new MpiLibrary(handle); }
        catch (EntryPointNotFoundException e)
        {
            throw new UserError($"{FileName} is not OpenMPI's ({e.Message}); install {Package}");
        }
    }

    /// <summary>MPI_Init_thread once per process (MPI cannot be initialised twice).</summary>
    public void EnsureInitialised()
    {
        int flag;
        Check(Initialized(&flag), "MPI_Initialized");
        if (flag != 0) return;
        int provided;
        Check(InitThread(null, 0, ThreadSerialized, &provided), "MPI_Init_thread");
    }

    public void FinalizeOnce()
    {
        int flag;
        Finalized(&flag);
        if (flag == 0) FinalizeCall();
    }

    /// <summary>OpenMPI's default error handler aborts the job itself; a non-zero code that does come back is a bug here.</summary>
    public static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}");
    }
}
