using Flame.Distributed;
using Flame.Model;
using Flame.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>What a training step is built from (spec §2 for the recipe's parts).</summary>
/// <param name="ComputeType">bf16 on CUDA, fp32 on the CPU (<see cref="Runtime.TorchRuntime"/> resolves it).</param>
/// <param name="DistributedOptimizer">AdamW's state sharded over the data-parallel ranks (ZeRO-1; nothing changes on one rank).</param>
/// <param name="FusedAdamW">the update as libtorch's fused multi-tensor AdamW kernel.</param>
/// <param name="CacheWeightCasts">bf16 weights cast once per step rather than in every op.</param>
public sealed record StepOptions(
    ModelConfig Model, Device Device, ScalarType ComputeType, int MicroBatch, int GlobalBatch, OptimizerSettings Optimizer,
    long Seed, double InitialLr, bool DistributedOptimizer = false, bool FusedAdamW = false,
    DispatchMode Dispatch = DispatchMode.Grouped, bool CacheWeightCasts = true);

/// <summary>One step's losses (means over the step's micro-batches on this rank) and the gradient norm before clipping, all 0-d on the device.</summary>
public sealed record StepLosses(Tensor Lm, Tensor LoadBalancing, Tensor Z, Tensor GradNorm) : IDisposable
{
    public void Dispose()
    {
        Lm.Dispose();
        LoadBalancing.Dispose();
        Z.Dispose();
        GradNorm.Dispose();
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
    IPhaseProbe? _probe;

    TrainingStep(FlameModel model, TrainingOptimizer optimizer, ProcessGroups groups, DataParallelSampler sampler, ExpertLoadTracker load, Device device)
    {
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
        Parallelizer.Apply(model, groups);
        var optimizer = TrainingOptimizer.Create(model, groups, o.Optimizer, o.InitialLr, o.DistributedOptimizer, o.FusedAdamW);
        var sampler = new DataParallelSampler(o.GlobalBatch, o.MicroBatch, layout.World, world.Rank);
        return new TrainingStep(model, optimizer, groups, sampler, new ExpertLoadTracker(o.Model, o.Device), o.Device);
    }

    /// <summary>Phase marks for `bench train --breakdown` (null, the default, costs nothing).</summary>
    public IPhaseProbe? Probe
    {
        get => _probe;
        set { _probe = value; Model.PhaseProbe = value; }
    }

    /// <summary>One optimizer step at learning rate <paramref name="lr"/> over step <paramref name="step"/>'s micro-batches of <paramref name="batches"/>.</summary>
    public StepLosses Run(long step, double lr, TokenBatches batches)
    {
        using var scope = NewDisposeScope();
        Optimizer.SetLearningRate(lr);
        Optimizer.ZeroGrad();
        int accumulation = Sampler.Accumulation;
        var lm = zeros(1, device: _device).squeeze();
        var balance = zeros(1, device: _device).squeeze();
        var z = zeros(1, device: _device).squeeze();
        for (int micro = 0; micro < accumulation; micro++)
        {
            var tokens = batches.Get(step, micro);
            var output = Model.forward(tokens[.., ..^1]);
            var lmLoss = FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]);
            (output.TrainingLoss(lmLoss) / accumulation).backward();
            Load.Add(output.Moe);
            lm = lm + lmLoss.detach() / accumulation;
            balance = balance + output.LoadBalancingLoss.detach() / accumulation;
            z = z + output.ZLoss.detach() / accumulation;
        }
        _probe?.Begin(StepPhase.Optimizer);
        var norm = Optimizer.AverageAndClip();
        Optimizer.Step();
        Model.RefreshWeightCasts();
        return new StepLosses(lm.MoveToOuterDisposeScope(), balance.MoveToOuterDisposeScope(), z.MoveToOuterDisposeScope(),
            norm.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        Load.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
        Groups.Dispose();
    }
}
