using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// The communicators one rank trains with (Megatron's process groups): the whole world (dense gradients, logs),
/// its expert-parallel group (token all-to-all, the expert share of the gradient norm) and its data group, the
/// ranks holding the same experts (expert gradients). All are the world itself when there is one rank.
/// </summary>
public sealed class ProcessGroups : IDisposable
{
    public ParallelLayout Layout { get; }
    public ICommunicator World { get; }
    public ICommunicator Expert { get; }
    public ICommunicator Data { get; }
    readonly bool _ownsGroups;

    public ProcessGroups(ICommunicator world, ParallelLayout layout)
    {
        Layout = layout;
        World = world;
        if (world.Size == 1) { Expert = world; Data = world; return; }
        int rank = world.Rank;
        Expert = world.Split(color: layout.DataRank(rank), key: layout.ExpertRank(rank));
        Data = world.Split(color: layout.ExpertRank(rank), key: layout.DataRank(rank));
        _ownsGroups = true;
    }

    /// <summary>One process alone: every group is the local one (inference, imports, tests).</summary>
    public static ProcessGroups Local() => new(new LocalCommunicator(), ParallelLayout.Single);

    public bool IsMain => World.Rank == 0;

    /// <summary>The mean over ranks of a per-rank value (a log value: each rank's mean over its own samples).</summary>
    public Tensor MeanOverRanks(Tensor value)
    {
        if (World.Size == 1) return value;
        var sum = value.detach().clone();
        World.AllReduceSum(sum);
        return sum / World.Size;
    }

    /// <summary>Rank 0's answer on every rank (a decision read from rank 0's files, which other machines may not see).</summary>
    public bool MainDecides(bool value, Device device)
    {
        if (World.Size == 1) return value;
        var flag = tensor(value ? 1f : 0f, device: device);
        World.Broadcast(flag, root: 0);
        return flag.item<float>() != 0;
    }

    public void Dispose()
    {
        if (!_ownsGroups) return;
        Expert.Dispose();
        Data.Dispose();
    }
}
