namespace Flame.Distributed;

/// <summary>
/// The `[parallel]` section of an experiment: the expert-parallel size and whether optimizer state is sharded
/// (Megatron's distributed optimizer, ZeRO-1). World and data sizes are not chosen: the launcher decides the world,
/// and loading an experiment records the resolved layout in <see cref="World"/> and <see cref="Data"/>
/// (<see cref="ParallelLayout.Resolve"/>), which the saved config.toml shows. A config built in code is one process.
/// </summary>
public sealed record ParallelSettings
{
    /// <summary>Ranks that split each MoE layer's experts between them (divides the world size and the experts).</summary>
    public int Expert { get; init; } = 1;
    /// <summary>Shard AdamW's state over the data-parallel ranks (each rank updates and keeps 1/data of it).</summary>
    public bool DistributedOptimizer { get; init; }
    /// <summary>Ranks the run is launched with (recorded from the launcher).</summary>
    public int World { get; init; } = 1;
    /// <summary>Data-parallel size, world / expert (recorded).</summary>
    public int Data { get; init; } = 1;

    /// <summary>The recorded layout.</summary>
    public ParallelLayout Layout => new(World, Data, Expert);
}
