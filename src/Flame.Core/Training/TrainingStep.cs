using Flame.Distributed;
using Flame.Model;
using Flame.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>What a training step is built from (spec §2 for the recipe's parts).</summary>
/// <param name="ComputeType">bf16 on CUDA, fp32 on the CPU (<see cref="Runtime.TorchRuntime"/> resolves it).</param>
/// <param name="DistributedOptimizer">AdamW's state sharded over the data-parallel ranks (ZeRO-1; nothing changes on one rank).</param>
/// <param name="CacheWeightCasts">bf16 weights cast once per step rather than in every op.</param>
/// <param name="Recompute">activations the backward recomputes instead of keeping.</param>
/// <param name="LossChunk">tokens per chunk of the output layer and loss (0: the whole logits at once).</param>
public sealed record StepOptions(
    ModelConfig Model, Device Device, ScalarType ComputeType, int MicroBatch, int GlobalBatch, OptimizerSettings Optimizer,
    long Seed, double InitialLr, bool DistributedOptimizer = false,
    DispatchMode Dispatch = DispatchMode.Grouped, bool CacheWeightCasts = true, RecomputeMode Recompute = RecomputeMode.None,
    int LossChunk = 0);

/// <summary>
/// The step's losses summed on the device, each micro-batch adding its lm, load-balancing and z-loss divided by the
/// accumulation, over as many steps as the owner lets it run (the trainer: a logging interval; a benchmark: one step).
/// </summary>
public sealed class LossSums(Device device) : IDisposable
{
    public Tensor Lm { get; } = Zero(device);
    public Tensor LoadBalancing { get; } = Zero(device);
    public Tensor Z { get; } = Zero(device);
    /// <summary>Optimizer steps added since the last <see cref="Clear"/>.</summary>
    public int Steps { get; private set; }

    static Tensor Zero(Device device) => zeros(1, device: device).squeeze().DetachFromDisposeScope();

    internal void Add(Tensor lm, Tensor loadBalancing, Tensor z, int accumulation)
    {
        using var noGrad = no_grad();
        Lm.add_(lm.detach() / accumulation);
        LoadBalancing.add_(loadBalancing.detach() / accumulation);
        Z.add_(z.detach() / accumulation);
    }

    internal void CountStep() => Steps++;

    public void Clear()
    {
        foreach (var t in new[] { Lm, LoadBalancing, Z }) t.zero_();
        Steps = 0;
    }

    public void Dispose()
    {
        Lm.Dispose();
        LoadBalancing.Dispose();
        Z.Dispose();
    }
}

/// <summary>
/// The training step (torchtitan's train_step, OLMo-core's TrainModule), the one `flame train`, `flame bench train` and
/// `flame bench train --parallel` all run: built once (seed, model, compute dtype, the layout applied from outside by
/// <see cref="Parallelizer"/>, the optimizer, weight casts), then each <see cref="Run"/> is one optimizer step over
/// this rank's micro-batches: forward, lm + load-balancing + z-loss scaled by 1/accumulation, backward, expert-load
/// counting; then gradients averaged over the ranks and clipped to the global norm, AdamW, and the weight casts
/// refreshed. Nothing is read to the host: the losses stay on the device for the caller to read when it logs.
/// </summary>
public sealed class TrainingStep : IDisposable
{
    public FlameModel Model { get; }
    public TrainingOptimizer Optimizer { get; }
    public ProcessGroups Groups { get; }
    public DataParallelSampler Sampler { get; }
    /// <summary>Routed slots per expert since the last log (the trainer's expert-load metrics).</summary>
    public ExpertLoadTracker Load { get; }
    readonly Device _device;
    readonly int _lossChunk;
    IPhaseProbe? _probe;

    TrainingStep(FlameModel model, TrainingOptimizer optimizer, ProcessGroups groups, DataParallelSampler sampler, ExpertLoadTracker load, Device device, int lossChunk)
    {
        _lossChunk = lossChunk;
        Model = model;
        Optimizer = optimizer;
        Groups = groups;
        Sampler = sampler;
        Load = load;
        _device = device;
    }

    /// <summary>
    /// The model built from <see cref="StepOptions.Seed"/> (the same initial weights on every rank and layout), laid out on
    /// <paramref name="layout"/> over <paramref name="world"/>, and its optimizer.
    /// </summary>
    public static TrainingStep Build(StepOptions o, ParallelLayout layout, ICommunicator world)
    {
        if (world.Size != layout.World)
            throw new InvalidOperationException($"the layout has {layout.World} ranks but the world {world.Size}");
        if (o.Dispatch == DispatchMode.Reference && layout.Expert > 1)
            throw new UserError("the reference dispatch computes every expert on one process; it cannot run with expert parallelism (parallel.expert > 1)");
        var groups = new ProcessGroups(world, layout);
        manual_seed(o.Seed);
        var model = new FlameModel(o.Model);
        model.to(o.Device);
        model.ComputeType = o.ComputeType;
        model.Dispatch = o.Dispatch;
        model.CacheWeightCasts = o.CacheWeightCasts; // refreshed after every optimizer step below
        model.Recompute = o.Recompute;
        Parallelizer.Apply(model, groups);
        var optimizer = TrainingOptimizer.Create(model, groups, o.Optimizer, o.InitialLr, o.DistributedOptimizer);
        var sampler = new DataParallelSampler(o.GlobalBatch, o.MicroBatch, layout.World, world.Rank);
        return new TrainingStep(model, optimizer, groups, sampler, new ExpertLoadTracker(o.Model, o.Device), o.Device, o.LossChunk);
    }

    /// <summary>Phase marks for `bench train --breakdown` (null, the default, costs nothing).</summary>
    public IPhaseProbe? Probe
    {
        get => _probe;
        set { _probe = value; Model.PhaseProbe = value; }
    }

    /// <summary>
    /// One optimizer step at learning rate <paramref name="lr"/> over step <paramref name="step"/>'s micro-batches of
    /// <paramref name="batches"/>, adding its losses to <paramref name="sums"/>; returns the gradient norm before clipping
    /// (0-d, on the device, in the caller's dispose scope).
    /// </summary>
    public Tensor Run(long step, double lr, TokenBatches batches, LossSums sums)
    {
        using var scope = NewDisposeScope();
        Optimizer.SetLearningRate(lr);
        Optimizer.ZeroGrad();
        int accumulation = Sampler.Accumulation;
        for (int micro = 0; micro < accumulation; micro++)
        {
            using var microScope = NewDisposeScope(); // a micro-batch's logits and activations are freed before the next one
            var tokens = batches.Get(step, micro);
            var output = Model.forward(tokens[.., ..^1], tokens[.., 1..], _lossChunk);
            (output.TrainingLoss() / accumulation).backward();
            Load.Add(output.Moe);
            sums.Add(output.LmLoss, output.LoadBalancingLoss, output.ZLoss, accumulation);
        }
        sums.CountStep();
        _probe?.Begin(StepPhase.Optimizer);
        var norm = Optimizer.AverageAndClip();
        Optimizer.Step();
        Model.RefreshWeightCasts();
        return norm.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Load.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
        Groups.Dispose();
    }
}
