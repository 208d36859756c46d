using Flame.Model;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// What the trainer asks of the job it runs in, the same calls on one process as on many (there every group is
/// the local one): which samples this rank reads, the model's expert slice, gradient averaging and clipping,
/// global log values, and checkpoints in today's format whatever the world size (rank 0 writes them).
/// </summary>
public sealed class ParallelTraining : IDisposable
{
    readonly TrainingConfig _config;
    GradientSync? _gradients;
    ShardedOptimizer? _distributedOptimizer; // made by CreateOptimizer; it averages the gradients itself
    HashSet<nint> _sharded = [];

    public ProcessGroups Groups { get; }
    public ParallelLayout Layout => Groups.Layout;
    public bool IsMain => Groups.IsMain;

    public ParallelTraining(TrainingConfig config, ModelConfig model, ICommunicator world)
    {
        _config = config;
        var layout = ParallelLayout.Resolve(world.Size, config.Parallel, model.Experts, config.MicroBatch, config.GlobalBatch);
        Groups = new ProcessGroups(world, layout);
    }

    /// <summary>Micro-batches per step on this rank: the global batch split over micro-batches and ranks.</summary>
    public int Accumulation => _config.GlobalBatch / (_config.MicroBatch * Layout.World);

    /// <summary>
    /// The sample indices of micro-batch <paramref name="micro"/> of a step on this rank: rank r reads the r-th
    /// contiguous share of the step's global batch, so the step's samples are the single-process run's.
    /// </summary>
    public long[] Samples(long step, int micro)
    {
        long first = step * _config.GlobalBatch + (long)Groups.World.Rank * (_config.GlobalBatch / Layout.World) + (long)micro * _config.MicroBatch;
        return Enumerable.Range(0, _config.MicroBatch).Select(i => first + i).ToArray();
    }

    /// <summary>Slices the experts (expert parallelism) and prepares the gradient synchronisation.</summary>
    public void Apply(FlameModel model)
    {
        Parallelizer.Apply(model, Groups);
        var sharded = Parallelizer.ShardedParameters(model, Layout);
        _sharded = sharded.Select(p => p.Handle).ToHashSet();
        var replicated = model.parameters().Where(p => !_sharded.Contains(p.Handle)).Cast<Tensor>().ToList();
        _gradients = new GradientSync(Groups, replicated, sharded);
    }

    public ParallelOptimizer CreateOptimizer(FlameModel model, OptimizerSettings settings, double lr)
    {
        if (!(_config.Parallel.DistributedOptimizer && Layout.World > 1)) return new ReplicatedOptimizer(model, Groups, settings, lr);
        return _distributedOptimizer = new ShardedOptimizer(model, Groups, settings, lr);
    }

    /// <summary>
    /// Averages gradients over the ranks and clips them to the global norm (returned, 0-d on the device): all-reduced
    /// into every parameter's gradient, or, with the distributed optimizer, reduce-scattered into its shards alone.
    /// </summary>
    public Tensor AverageAndClip(double maxNorm) =>
        _distributedOptimizer?.ReduceScatterAndClip(maxNorm)
        ?? (_gradients ?? throw new InvalidOperationException("Apply the layout to the model first")).AverageAndClip(maxNorm);

    /// <summary>The mean over ranks of a per-rank value (a log value: each rank's mean over its own samples).</summary>
    public Tensor MeanOverRanks(Tensor value)
    {
        if (Layout.World == 1) return value;
        var sum = value.detach().clone();
        Groups.World.AllReduceSum(sum);
        return sum / Layout.World;
    }

    /// <summary>Rank 0's answer on every rank (a decision read from rank 0's files, which other machines may not see).</summary>
    public bool MainDecides(bool value, Device device)
    {
        if (Layout.World == 1) return value;
        var flag = tensor(value ? 1f : 0f, device: device);
        Groups.World.Broadcast(flag, root: 0);
        return flag.item<float>() != 0;
    }

    /// <summary>Every rank calls this at a checkpoint step; rank 0 writes the files (the ranks gather expert slices with it).</summary>
    public void SaveCheckpoint(CheckpointStore store, long step, string configJson, FlameModel model, ParallelOptimizer optimizer)
    {
        if (IsMain)
            store.Save(step, configJson, folder =>
            {
                WriteModel(Path.Combine(folder, TrainedCheckpoint.ModelFile), model);
                ModelConfigJson.Write(folder, model.Config);
                optimizer.Save(Path.Combine(folder, ParallelOptimizer.FileName));
            });
        else
        {
            WriteModel(null, model);
            optimizer.Save(null);
        }
        Groups.World.Barrier();
    }

    void WriteModel(string? path, FlameModel model) =>
        TorchSharpStateFiles.WriteModule(path, model.state_dict().Select(kv => _sharded.Contains(kv.Value.Handle)
            ? new TorchSharpStateFiles.ModuleEntry(kv.Key, () => Groups.Expert.AllGather(kv.Value))
            : new TorchSharpStateFiles.ModuleEntry(kv.Key, () => kv.Value)).ToList());

    /// <summary>
    /// Loads a checkpoint written with any layout: each rank takes its expert slice of every stacked tensor. A checkpoint
    /// without optimizer state (`flame import hf|megatron` write none) leaves the optimizer fresh; returns whether it had state.
    /// </summary>
    public bool LoadCheckpoint(string folder, FlameModel model, ParallelOptimizer optimizer)
    {
        var targets = model.state_dict();
        int index = Layout.ExpertRank(Groups.World.Rank), seen = 0;
        using (no_grad())
            TorchSharpStateFiles.ReadModule(Path.Combine(folder, TrainedCheckpoint.ModelFile), (name, full) =>
            {
                if (!targets.TryGetValue(name, out var target))
                    throw new UserError($"{folder}: the checkpoint's {name} is not in this model");
                Tensor? source = null;
                try { source = _sharded.Contains(target.Handle) ? ExpertShard.Of(full, index, Layout.Expert) : full; }
                catch (System.Runtime.InteropServices.ExternalException) { } // a stacked tensor with too few experts to slice
                if (source is null || !source.shape.SequenceEqual(target.shape))
                    throw new UserError($"{folder}: the checkpoint's {name} has shape [{string.Join(", ", full.shape)}], which does not fit this model's [{string.Join(", ", target.shape)}]; model.json and model.bin disagree, or the model changed since");
                target.copy_(source);
                seen++;
            });
        if (seen != targets.Count) throw new UserError($"{folder}: the checkpoint has {seen} of the model's {targets.Count} tensors");
        var state = Path.Combine(folder, ParallelOptimizer.FileName);
        if (!File.Exists(state))
        {
            optimizer.StartFresh();
            return false;
        }
        optimizer.Load(state);
        return true;
    }

    public void Dispose() => Groups.Dispose();
}
