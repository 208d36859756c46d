using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// This process's place in its job, once per process: the launcher's environment and the world communicator.
/// Without a launcher (or with one rank) the world is a <see cref="LocalCommunicator"/> and MPI is never loaded.
/// </summary>
public static class ProcessWorld
{
    static readonly Lock Gate = new();
    static ICommunicator? _world;

    public static LaunchEnvironment Launch { get; } = LaunchEnvironment.Detect();

    /// <summary>Rank 0 (or the only process) writes files and the console.</summary>
    public static bool IsMain => Launch.Rank == 0;

    /// <summary>The world over CPU tensors: MPI_COMM_WORLD under a launcher with several ranks, else the local group.</summary>
    public static ICommunicator Communicator
    {
        get
        {
            lock (Gate)
            {
                if (_world is not null) return _world;
                if (Launch.Size == 1) return _world = new LocalCommunicator();
                var mpi = MpiCommunicator.World();
                if (mpi.Size != Launch.Size)
                    throw new UserError($"the launcher says {Launch.Size} ranks but MPI sees {mpi.Size}: start Flame with the mpirun of the installed OpenMPI");
                RankWatch.Start(mpi);
                return _world = mpi;
            }
        }
    }

    /// <summary>The world for tensors on <paramref name="device"/>: NCCL over the MPI world for CUDA, the CPU world otherwise.</summary>
    public static ICommunicator For(Device device) =>
        device.type == DeviceType.CUDA && Communicator is MpiCommunicator mpi ? new NcclCommunicator(mpi) : Communicator;

    /// <summary>The CUDA device of this rank: one process per GPU, device = local rank.</summary>
    public static Device LocalDevice(Device device) =>
        device.type == DeviceType.CUDA && Launch.Size > 1 ? new Device(DeviceType.CUDA, Launch.LocalRank) : device;

    /// <summary>
    /// Ends this process's part in the job: MPI_Finalize after success; after a failure MPI_Abort, so ranks waiting
    /// in a collective for this one stop at once instead of hanging.
    /// </summary>
    public static void Finish(int exitCode)
    {
        lock (Gate)
        {
            if (_world is not MpiCommunicator mpi) return;
            if (exitCode == 0)
            {
                mpi.Barrier();
                RankWatch.Disarm();
                MpiLibrary.Load().FinalizeOnce();
            }
            else mpi.Abort(exitCode);
        }
    }
}
