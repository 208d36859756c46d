using Flame.Checkpointing;
using Flame.Distributed;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Optimization;

/// <summary>
/// The trainer's AdamW (spec §2) on one rank of a job, with the gradient reduction that goes with it (Megatron pairs
/// its DDP buffers with its optimizer the same way): <see cref="AverageAndClip"/> makes the gradients the global batch's
/// and clips them, <see cref="Step"/> updates the weights. Its checkpoint file is TorchSharp's AdamW format for the whole
/// model whatever the layout, written by rank 0 while the ranks hand it their shares one tensor at a time, and read back
/// by every rank taking its own share, so a checkpoint moves between world sizes.
/// </summary>
public abstract class TrainingOptimizer(ProcessGroups groups, OptimizerSettings settings) : IOptimizerState, IDisposable
{
    /// <summary>The ranks this optimizer's parameters and gradients are shared by.</summary>
    protected ProcessGroups Groups { get; } = groups;
    /// <summary>AdamW's hyperparameters, the clip norm and whether the update is fused.</summary>
    protected OptimizerSettings Settings { get; } = settings;

    /// <summary>
    /// The optimizer for a model already laid out on <paramref name="groups"/>: the distributed optimizer (ZeRO-1) when
    /// asked for and there is more than one rank, else the replicated one; fused or not as <paramref name="settings"/> say.
    /// </summary>
    public static TrainingOptimizer Create(FlameModel model, ProcessGroups groups, OptimizerSettings settings, double lr, bool distributed) =>
        distributed && groups.Layout.World > 1
            ? new DistributedOptimizer(model, groups, settings, lr)
            : new ReplicatedOptimizer(model, groups, settings, lr);

    public abstract void SetLearningRate(double lr);
    public abstract void ZeroGrad();
    /// <summary>
    /// Averages the gradients over the ranks and clips them to the global norm (spec §2, max norm
    /// <see cref="OptimizerSettings.ClipNorm"/>), which it returns (0-d, on the device; never read here).
    /// </summary>
    public abstract Tensor AverageAndClip();
    /// <summary>Updates the parameters from the gradients <see cref="AverageAndClip"/> left.</summary>
    public abstract void Step();
    /// <summary>The optimizer moments this rank holds, in elements (exp_avg + exp_avg_sq).</summary>
    public abstract long StateElements { get; }
    /// <summary>Every rank calls this; <paramref name="path"/> is the file on the rank that writes it and null elsewhere.</summary>
    public abstract void Save(string? path);
    /// <summary>Every rank reads the file and keeps its share.</summary>
    public abstract void Load(string path);
    /// <summary>
    /// Zero moments from the parameters as they are now: a checkpoint without optimizer state (an imported one) was
    /// just loaded into the model after this optimizer was made from the initial weights.
    /// </summary>
    public virtual void StartFresh() { }

    /// <summary>AdamW's update on <paramref name="adam"/>: the fused kernel, or TorchSharp's loop of ops per parameter.</summary>
    protected void Update(TorchSharp.Modules.AdamW adam)
    {
        if (Settings.Fused) FusedAdamW.Step(adam); else adam.step();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}

/// <summary>
/// AdamW over the rank's own parameters, expert slices included, with its full state (every data-parallel rank
/// repeats the same update): the layout without a distributed optimizer, and the only one on a single process.
/// Expert moments are gathered one tensor at a time to write and sliced to load.
/// </summary>
public sealed class ReplicatedOptimizer : TrainingOptimizer
{
    readonly TorchSharp.Modules.AdamW _adam;
    readonly HashSet<nint> _sharded;
    readonly GradientSync _gradients;

    public ReplicatedOptimizer(FlameModel model, ProcessGroups groups, OptimizerSettings settings, double lr) : base(groups, settings)
    {
        var sharded = Parallelizer.ShardedParameters(model, groups.Layout);
        _sharded = sharded.Select(p => p.Handle).ToHashSet();
        _gradients = new GradientSync(groups, model.parameters().Where(p => !_sharded.Contains(p.Handle)).Cast<Tensor>().ToList(), sharded);
        _adam = OptimizerFactory.Create(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), settings, lr);
    }

    public override void SetLearningRate(double lr) => OptimizerFactory.SetLearningRate(_adam, lr);

    public override void ZeroGrad() => _adam.zero_grad();

    public override Tensor AverageAndClip() => _gradients.AverageAndClip(Settings.ClipNorm);

    public override void Step() => Update(_adam);

    public override long StateElements => States().Sum(s => s.State.exp_avg.numel() + s.State.exp_avg_sq.numel());

    IEnumerable<(Tensor Param, TorchSharp.Modules.AdamW.State State)> States()
    {
        var sd = _adam.state_dict();
        var parameters = _adam.ParamGroups.Cast<TorchSharp.Modules.ParamGroup>().SelectMany(g => g.Parameters).ToList();
        return parameters.Select((p, i) => ((Tensor)p, (TorchSharp.Modules.AdamW.State)sd.State[i]));
    }

    public override void Save(string? path)
    {
        var entries = States().Select(s => _sharded.Contains(s.Param.Handle)
            ? new TorchSharpStateFiles.AdamWEntry(s.State.step, () => Groups.Expert.AllGather(s.State.exp_avg), () => Groups.Expert.AllGather(s.State.exp_avg_sq))
            : new TorchSharpStateFiles.AdamWEntry(s.State.step, () => s.State.exp_avg, () => s.State.exp_avg_sq)).ToList();
        TorchSharpStateFiles.WriteAdamW(path, _adam.state_dict().Options, entries);
    }

    public override void Load(string path)
    {
        var states = States().ToList();
        int index = Groups.Layout.ExpertRank(Groups.World.Rank);
        TorchSharpStateFiles.ReadAdamW(path, _adam.state_dict().Options, states.Count, (i, step, expAvg, expAvgSq) =>
        {
            var (param, state) = states[i];
            bool sharded = _sharded.Contains(param.Handle);
            state.step = step;
            using var noGrad = no_grad();
            state.exp_avg.copy_(sharded ? ExpertShard.Of(expAvg, index, Groups.Layout.Expert) : expAvg);
            state.exp_avg_sq.copy_(sharded ? ExpertShard.Of(expAvgSq, index, Groups.Layout.Expert) : expAvgSq);
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _adam.Dispose();
    }
}
