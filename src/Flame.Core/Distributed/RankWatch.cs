using System.Runtime.InteropServices;
using System.Text;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// Stops this rank, with one line naming the lost one, when another rank of the job dies (SIGKILL, out of memory):
/// a rank waiting in a collective for a dead peer would otherwise hang. Ranks learn each other's host and process
/// id at start; a watcher thread checks the peers on this host every second, and the launcher's SIGTERM (mpirun
/// and srun send one to the survivors when a rank dies) is answered the same way. Rank 0 writes checkpoints
/// atomically, so the last complete one stays intact whatever step the job dies in.
/// </summary>
static class RankWatch
{
    const int LostRankExitCode = 1;
    static volatile bool _stopped;
    static PosixSignalRegistration? _terminate;
    static (int Rank, string Host, int Pid)[] _peers = [];
    static int _rank, _size;

    [DllImport("libc", EntryPoint = "_exit")]
    static extern void ExitNow(int code);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    public static void Start(MpiCommunicator world)
    {
        _rank = world.Rank;
        _size = world.Size;
        // Fixed-size records (pid, host name) gathered from every rank.
        var record = new byte[72];
        BitConverter.TryWriteBytes(record.AsSpan(0, 4), Environment.ProcessId);
        Encoding.UTF8.GetBytes(Environment.MachineName.AsSpan(0, Math.Min(64, Environment.MachineName.Length)), record.AsSpan(8));
        using var mine = tensor(record, dtype: ScalarType.Byte);
        using var all = world.AllGather(mine);
        var bytes = all.data<byte>().ToArray();
        _peers = Enumerable.Range(0, world.Size).Select(r =>
        {
            var span = bytes.AsSpan(r * record.Length, record.Length);
            return (r, Encoding.UTF8.GetString(span[8..]).TrimEnd('\0'), BitConverter.ToInt32(span[..4]));
        }).ToArray();
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            // The launcher may signal before it has reaped the dead rank: look for it for a moment.
            for (int attempt = 0; attempt < 20; attempt++)
            {
                if (LostPeer() is { } lost) Stop(lost);
                Thread.Sleep(100);
            }
            Stop("the launcher stopped the job (a rank was lost or failed; the launcher's message names it)");
        });
        new Thread(Watch) { IsBackground = true, Name = "rank watch" }.Start();
    }

    /// <summary>Called before MPI_Finalize: from here on peers may exit normally.</summary>
    public static void Disarm() => _stopped = true;

    static void Watch()
    {
        while (!_stopped)
        {
            Thread.Sleep(1000);
            if (!_stopped && LostPeer() is { } lost) Stop(lost);
        }
    }

    /// <summary>A line naming the first peer on this host whose process is gone, or null.</summary>
    static string? LostPeer()
    {
        foreach (var (rank, host, pid) in _peers)
        {
            if (rank == _rank || host != Environment.MachineName) continue;
            if (Kill(pid, 0) != 0 && Marshal.GetLastPInvokeError() == 3 /* ESRCH */)
                return $"rank {rank} of {_size} was lost (process {pid} on {host} ended)";
        }
        return null;
    }

    static void Stop(string reason)
    {
        if (_stopped) return;
        _stopped = true;
        Console.Error.WriteLine($"error: {reason}; rank {_rank} stops. Continue from the last checkpoint with --resume.");
        Console.Error.Flush();
        ExitNow(LostRankExitCode);
    }
}
