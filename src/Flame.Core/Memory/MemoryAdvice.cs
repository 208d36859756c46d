using Flame.Distributed;
using Flame.Model;

namespace Flame.Memory;

/// <summary>One change to a step that does not fit: what it is, the config it means, and the total it gives.</summary>
public sealed record MemoryChange(string Change, string Setting, long TotalBytes, bool Fits, int Gpus = 1)
{
    /// <summary>The setting, and "(needs N GPUs)" when it takes more devices than one.</summary>
    public string SettingAndGpus => Gpus > 1 ? $"{Setting} (needs {Gpus} GPUs)" : Setting;
}

/// <summary>
/// When a plan does not fit, the changes that would make it fit, tried in order: a smaller micro-batch, selective then
/// full recompute, loss chunking; on one device, then full recompute and loss chunks together at the largest micro-batch
/// that fits (the one-GPU configuration); only then a larger expert-parallel size (more GPUs, said as "needs N GPUs") and
/// the distributed optimizer; if none fits, all of them together. <see cref="Smallest"/> is the first that fits.
/// </summary>
public static class MemoryAdvice
{
    /// <summary>Tokens per loss chunk the advice tries (Megatron-sized: 4096 x 50304 fp32 logits are 0.8 GB).</summary>
    public const int AdvisedLossChunk = 4096;

    public static IReadOnlyList<MemoryChange> For(MemoryRequest r, long deviceBytes)
    {
        var changes = new List<MemoryChange>();
        void Try(string change, string setting, MemoryRequest changed)
        {
            long total = MemoryPlanner.Plan(changed).TotalBytes;
            changes.Add(new(change, setting, total, total <= deviceBytes, changed.Layout.World));
        }

        // The largest smaller micro-batch that fits, or 1 (the least any micro-batch gives).
        for (int b = r.MicroBatch / 2; b >= 1; b /= 2)
        {
            var smaller = r with { MicroBatch = b };
            if (MemoryPlanner.Plan(smaller).TotalBytes <= deviceBytes || b == 1)
            {
                Try($"micro-batch {b}", $"training.micro_batch={b}", smaller);
                break;
            }
        }
        if (r.Recompute == RecomputeMode.None) Try("selective recompute", "training.recompute=selective", r with { Recompute = RecomputeMode.Selective });
        if (r.Recompute != RecomputeMode.Full) Try("full recompute", "training.recompute=full", r with { Recompute = RecomputeMode.Full });
        if (r.LossChunk == 0 || r.LossChunk > AdvisedLossChunk && r.Tokens > AdvisedLossChunk)
            if (r.Tokens > AdvisedLossChunk) Try($"loss chunks of {AdvisedLossChunk} tokens", $"training.loss_chunk={AdvisedLossChunk}", r with { LossChunk = AdvisedLossChunk });
        // One device: before any change that takes more GPUs, full recompute and loss chunks together at the largest
        // micro-batch (halving down to 1) that fits, so a single-GPU run is told the single-GPU configuration if one exists.
        if (r.Layout.World == 1 && !changes.Any(c => c.Fits))
        {
            int chunk = r.Tokens > AdvisedLossChunk && (r.LossChunk == 0 || r.LossChunk > AdvisedLossChunk) ? AdvisedLossChunk : r.LossChunk;
            for (int b = r.MicroBatch; b >= 1; b /= 2)
            {
                var together = r with { MicroBatch = b, Recompute = RecomputeMode.Full, LossChunk = chunk > 0 ? Math.Min(chunk, b * r.Sequence) : 0 };
                if (MemoryPlanner.Plan(together).TotalBytes <= deviceBytes || b == 1)
                {
                    var settings = new List<string>();
                    if (b != r.MicroBatch) settings.Add($"training.micro_batch={b}");
                    if (r.Recompute != RecomputeMode.Full) settings.Add("training.recompute=full");
                    if (together.LossChunk != r.LossChunk) settings.Add($"training.loss_chunk={together.LossChunk}");
                    Try($"one GPU: micro-batch {b}, full recompute, loss chunks of {together.LossChunk} tokens", string.Join(" ", settings), together);
                    break;
                }
            }
        }
        var expert = LargerExpertParallel(r, deviceBytes);
        if (expert is { } e)
            Try($"needs {e.World} GPUs: expert parallel {e.Expert} (data {e.Data} x expert {e.Expert})", $"parallel.expert={e.Expert}", r with { Layout = e });
        if (!r.DistributedOptimizer && r.Layout.World > 1)
            Try("distributed optimizer", "parallel.distributed_optimizer=true", r with { DistributedOptimizer = true });

        if (changes.Count > 0 && !changes.Any(c => c.Fits))
        {
            var all = r with
            {
                MicroBatch = 1, Recompute = RecomputeMode.Full, LossChunk = r.Tokens > AdvisedLossChunk ? AdvisedLossChunk : r.LossChunk,
                Layout = expert ?? r.Layout, DistributedOptimizer = r.DistributedOptimizer || (expert ?? r.Layout).World > 1,
            };
            Try("all of these together", "micro-batch 1, full recompute, loss chunks, the largest expert parallel, distributed optimizer", all);
        }
        return changes;
    }

    /// <summary>The first change that fits, or null.</summary>
    public static MemoryChange? Smallest(IReadOnlyList<MemoryChange> changes) => changes.FirstOrDefault(c => c.Fits);

    /// <summary>
    /// The smallest expert-parallel size above the current one (dividing the experts, same data size, more GPUs) that
    /// fits, or the largest there is; null for a dense model or when the experts are already one per rank.
    /// </summary>
    static ParallelLayout? LargerExpertParallel(MemoryRequest r, long deviceBytes)
    {
        int experts = r.Model.Experts;
        if (!r.Model.IsMoe) return null;
        ParallelLayout? last = null;
        for (int e = r.Layout.Expert * 2; e <= experts; e *= 2)
        {
            if (experts % e != 0) break;
            last = new ParallelLayout(r.Layout.Data * e, r.Layout.Data, e);
            if (MemoryPlanner.Plan(r with { Layout = last }).TotalBytes <= deviceBytes) return last;
        }
        return last;
    }
}
