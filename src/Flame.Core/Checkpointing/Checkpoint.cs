using Flame.Distributed;
using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Checkpointing;

/// <summary>
/// The one way a checkpoint is written and read, on one process or many (Megatron's save_checkpoint and
/// load_checkpoint): a folder checkpoints/iter_NNNNNNN with model.bin (TorchSharp's module format, the whole model),
/// model.json, optimizer.bin (TorchSharp's AdamW format, the whole optimizer; absent in an imported checkpoint) and
/// state.json (step, config, a SHA-256 per file), written by <see cref="CheckpointStore"/> to a temporary folder and
/// renamed. Whatever the layout that saves it, the files are those one process writes, so a checkpoint loads on any
/// layout: expert slices are gathered one tensor at a time to rank 0 on save, and each rank takes its slice on load.
/// </summary>
public static class Checkpoint
{
    public const string ModelFile = "model.bin";
    public const string OptimizerFile = "optimizer.bin";

    /// <summary>
    /// Every rank calls this at a checkpoint step; rank 0 writes the files while the others hand it their expert
    /// slices. <paramref name="optimizer"/> null: weights only (an import). Returns the folder on rank 0, null elsewhere.
    /// </summary>
    public static string? Save(CheckpointStore store, long step, string configJson, FlameModel model, ProcessGroups groups, IOptimizerState? optimizer)
    {
        var sharded = Parallelizer.ShardedHandles(model, groups.Layout);
        var entries = model.state_dict().Select(kv => sharded.Contains(kv.Value.Handle)
            ? new TorchSharpStateFiles.ModuleEntry(kv.Key, () => groups.Expert.AllGather(kv.Value))
            : new TorchSharpStateFiles.ModuleEntry(kv.Key, () => kv.Value)).ToList();
        string? written = null;
        if (groups.IsMain)
            written = store.Save(step, configJson, folder =>
            {
                TorchSharpStateFiles.WriteModule(Path.Combine(folder, ModelFile), entries);
                ModelConfigJson.Write(folder, model.Config);
                optimizer?.Save(Path.Combine(folder, OptimizerFile));
            });
        else
        {
            TorchSharpStateFiles.WriteModule(null, entries);
            optimizer?.Save(null);
        }
        if (groups.Layout.World > 1) groups.World.Barrier();
        return written;
    }

    /// <summary>
    /// Loads a checkpoint written with any layout into a model laid out on <paramref name="groups"/>: each rank takes its
    /// expert slice of every stacked tensor. A checkpoint without optimizer state (`flame import hf|megatron` write none)
    /// leaves <paramref name="optimizer"/> fresh. Returns whether the checkpoint had optimizer state.
    /// </summary>
    public static bool Load(string folder, FlameModel model, ProcessGroups groups, IOptimizerState? optimizer)
    {
        LoadWeights(folder, model, groups);
        if (optimizer is null) return File.Exists(Path.Combine(folder, OptimizerFile));
        var state = Path.Combine(folder, OptimizerFile);
        if (!File.Exists(state))
        {
            optimizer.StartFresh();
            return false;
        }
        optimizer.Load(state);
        return true;
    }

    static void LoadWeights(string folder, FlameModel model, ProcessGroups groups)
    {
        var path = Path.Combine(folder, ModelFile);
        string Mismatch(string detail) =>
            $"{path} does not match {ModelConfigJson.FileName} beside it ({detail}); was model.json edited? Restore it or use another checkpoint";
        var targets = model.state_dict();
        var sharded = Parallelizer.ShardedHandles(model, groups.Layout);
        int index = groups.Layout.ExpertRank(groups.World.Rank), seen = 0;
        try
        {
            using var noGrad = no_grad();
            TorchSharpStateFiles.ReadModule(path, (name, full) =>
            {
                if (!targets.TryGetValue(name, out var target)) throw new UserError(Mismatch($"{name} is not in the model"));
                Tensor? source = null;
                try { source = sharded.Contains(target.Handle) ? ExpertShard.Of(full, index, groups.Layout.Expert) : full; }
                catch (System.Runtime.InteropServices.ExternalException) { } // a stacked tensor with too few experts to slice
                if (source is null || !source.shape.SequenceEqual(target.shape))
                    throw new UserError(Mismatch($"{name} has shape [{string.Join(", ", full.shape)}] where the model has [{string.Join(", ", target.shape)}]"));
                target.copy_(source);
                seen++;
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException or System.Runtime.InteropServices.ExternalException)
        {
            throw new UserError(Mismatch(e.Message.Split('\n')[0].Trim()));
        }
        if (seen != targets.Count) throw new UserError(Mismatch($"it has {seen} of the model's {targets.Count} tensors"));
    }
}

/// <summary>Rank i of an expert group holds rows [i * E/ep, (i+1) * E/ep) of every stacked expert tensor.</summary>
public static class ExpertShard
{
    public static Tensor Of(Tensor full, int index, int ranks)
    {
        long local = full.shape[0] / ranks;
        return full.narrow(0, index * local, local);
    }
}
