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

    public bool IsMain => World.Rank == 0;

    public void Dispose()
    {
        if (!_ownsGroups) return;
        Expert.Dispose();
        Data.Dispose();
    }
}
