using Flame.Model;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// The trainer's AdamW (spec §2) on one rank of a job. Its checkpoint file is TorchSharp's AdamW format for the
/// whole model whatever the layout, written by rank 0 while the ranks hand it their shares one tensor at a time,
/// and read back by every rank taking its own share, so a checkpoint moves between world sizes.
/// </summary>
public abstract class ParallelOptimizer : IDisposable
{
    public const string FileName = "optimizer.bin";

    public abstract void SetLearningRate(double lr);
    public abstract void ZeroGrad();
    /// <summary>Updates the parameters from their (already averaged and clipped) gradients.</summary>
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
public sealed class ReplicatedOptimizer : ParallelOptimizer
{
    readonly TorchSharp.Modules.AdamW _adam;
    readonly ProcessGroups _groups;
    readonly HashSet<nint> _sharded;

    public ReplicatedOptimizer(FlameModel model, ProcessGroups groups, OptimizerSettings settings, double lr)
    {
        _groups = groups;
        _sharded = Parallelizer.ShardedParameters(model, groups.Layout).Select(p => p.Handle).ToHashSet();
        _adam = OptimizerFactory.Create(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), settings, lr);
    }

    public override void SetLearningRate(double lr) => OptimizerFactory.SetLearningRate(_adam, lr);

    public override void ZeroGrad() => _adam.zero_grad();

    public override void Step() => _adam.step();

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
            ? new TorchSharpStateFiles.AdamWEntry(s.State.step, () => _groups.Expert.AllGather(s.State.exp_avg), () => _groups.Expert.AllGather(s.State.exp_avg_sq))
            : new TorchSharpStateFiles.AdamWEntry(s.State.step, () => s.State.exp_avg, () => s.State.exp_avg_sq)).ToList();
        TorchSharpStateFiles.WriteAdamW(path, _adam.state_dict().Options, entries);
    }

    public override void Load(string path)
    {
        var states = States().ToList();
        int index = _groups.Layout.ExpertRank(_groups.World.Rank);
        TorchSharpStateFiles.ReadAdamW(path, _adam.state_dict().Options, states.Count, (i, step, expAvg, expAvgSq) =>
        {
            var (param, state) = states[i];
            bool sharded = _sharded.Contains(param.Handle);
            state.step = step;
            using var noGrad = no_grad();
            state.exp_avg.copy_(sharded ? ExpertShard.Of(expAvg, index, _groups.Layout.Expert) : expAvg);
            state.exp_avg_sq.copy_(sharded ? ExpertShard.Of(expAvgSq, index, _groups.Layout.Expert) : expAvgSq);
        });
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _adam.Dispose();
    }
}

/// <summary>Rank i of an expert group holds rows [i * E/ep, (i+1) * E/ep) of every stacked expert tensor.</summary>
static class ExpertShard
{
    public static Tensor Of(Tensor full, int index, int ranks)
    {
        long local = full.shape[0] / ranks;
        return full.narrow(0, index * local, local);
    }
}
