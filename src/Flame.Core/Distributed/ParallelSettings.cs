namespace Flame.Distributed;

/// <summary>
/// The `[parallel]` section of an experiment: the expert-parallel size and whether optimizer state is sharded
/// (Megatron's distributed optimizer, ZeRO-1). World and data sizes come from the launcher; <see cref="World"/>
/// and <see cref="Data"/> record what a run was launched with (0 = not launched yet).
/// </summary>
public sealed record ParallelSettings
{
    /// <summary>Ranks that split each MoE layer's experts between them (divides the world size and the experts).</summary>
    public int Expert { get; init; } = 1;
    /// <summary>Shard AdamW's state over the data-parallel ranks (each rank updates and keeps 1/data of it).</summary>
    public bool DistributedOptimizer { get; init; }
    /// <summary>Ranks the run was launched with (recorded; the launcher decides).</summary>
    public int World { get; init; }
    /// <summary>Data-parallel size, world / expert (recorded).</summary>
    public int Data { get; init; }
}
