namespace Flame.Distributed;

/// <summary>
/// How the ranks of a job divide the work (torchtitan's ParallelDims, Megatron's process groups): the world is a
/// mesh of <see cref="Data"/> x <see cref="Expert"/> ranks. Rank r holds expert shard r % Expert of every MoE layer
/// (its expert-parallel group is the Expert consecutive ranks around it) and is replica r / Expert of that shard.
/// Every rank reads its own samples: attention, dense layers and routers are data-parallel over the whole world,
/// as in Megatron where expert parallelism is carved out of data parallelism.
/// </summary>
public sealed record ParallelLayout(int World, int Data, int Expert)
{
    public static ParallelLayout Single { get; } = new(1, 1, 1);

    /// <summary>The layout for a world size and the `[parallel]` settings, checked against the model and batch.</summary>
    public static ParallelLayout Resolve(int world, ParallelSettings settings, int experts, int microBatch, int globalBatch)
    {
        if (settings.Expert < 1) throw new UserError($"parallel.expert must be at least 1 (got {settings.Expert})");
        var layout = new ParallelLayout(world, world / Math.Max(1, settings.Expert), settings.Expert);
        return layout.Validate(experts, microBatch, globalBatch);
    }

    public ParallelLayout Validate(int experts, int microBatch, int globalBatch)
    {
        if (World % Expert != 0 || Data * Expert != World)
            throw new UserError($"parallel.expert {Expert} does not divide the {World} ranks");
        if (Expert > 1 && (experts == 0 || experts % Expert != 0))
            throw new UserError($"parallel.expert {Expert} does not divide the model's {experts} experts");
        if (globalBatch % ((long)microBatch * World) != 0)
            throw new UserError($"training.global_batch {globalBatch} is not a multiple of training.micro_batch {microBatch} x {World} ranks");
        return this;
    }

    /// <summary>The settings with this layout's world and data sizes recorded (the saved config.toml shows what a run used).</summary>
    public ParallelSettings Record(ParallelSettings settings) => settings with { World = World, Data = Data };

    /// <summary>Position of a rank inside its expert-parallel group: which slice of the experts it holds.</summary>
    public int ExpertRank(int rank) => rank % Expert;

    /// <summary>Which replica of its expert slice a rank is.</summary>
    public int DataRank(int rank) => rank / Expert;

    /// <summary>The console's first line, e.g. "2 ranks: data 2 x expert 1".</summary>
    public string Describe() => $"{World} rank{(World == 1 ? "" : "s")}: data {Data} x expert {Expert}";
}
