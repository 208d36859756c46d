using Flame.Distributed;
using Flame.Experiments;
using Flame.Model;

namespace Flame.Memory;

/// <summary>One release recipe's plan: on the release layout (32 GPUs: data 4 x expert 8, distributed optimizer) and on one GPU.</summary>
public sealed record ReleaseMemoryRow(string Preset, int MicroBatch, int Sequence, MemoryPlan Release, MemoryPlan OneGpu,
    IReadOnlyList<MemoryChange> OneGpuAdvice);

/// <summary>
/// docs/memory.md's table: every release recipe in configs/ (its preset and micro-batch, seq 2048, bf16) planned on
/// the release layout and on one 80 GB GPU, with the smallest change that makes the single GPU fit.
/// </summary>
public static class ReleaseMemoryTable
{
    public static readonly ParallelLayout ReleaseLayout = new(32, 4, 8);

    public static IReadOnlyList<ReleaseMemoryRow> Build(string configFolder, long deviceBytes)
    {
        if (!Directory.Exists(configFolder)) throw new UserError($"{configFolder}: no such folder (the release recipes, configs/*.toml)");
        var rows = new List<ReleaseMemoryRow>();
        foreach (var path in Directory.GetFiles(configFolder, "*.toml").Order(StringComparer.Ordinal))
        {
            var training = ExperimentConfigFile.Load(path, []).Training;
            var model = training.ResolveModel();
            var layout = model.IsMoe ? ReleaseLayout : new ParallelLayout(32, 32, 1);
            var release = new MemoryRequest(model, training.MicroBatch, training.Sequence, Bf16: true, layout, DistributedOptimizer: true);
            var one = release with { Layout = ParallelLayout.Single, DistributedOptimizer = false };
            var onePlan = MemoryPlanner.Plan(one);
            rows.Add(new(model.Name, training.MicroBatch, training.Sequence, MemoryPlanner.Plan(release), onePlan,
                onePlan.TotalBytes <= deviceBytes ? [] : MemoryAdvice.For(one, deviceBytes)));
        }
        return rows.OrderBy(r => ModelAccounting.Of(r.Release.Request.Model).TotalParams).ToList();
    }

    /// <summary>The table as Markdown (what docs/memory.md holds).</summary>
    public static string Markdown(IReadOnlyList<ReleaseMemoryRow> rows, long deviceBytes)
    {
        var lines = new List<string>
        {
            $"| preset | micro-batch x seq | release: 32 GPUs (data 4 x expert 8, dist. opt.) per GPU | state / activations | one {DeviceMemory.Gb(deviceBytes)} GB GPU | state / activations | to fit one GPU |",
            "|---|---|---|---|---|---|---|",
        };
        foreach (var r in rows)
        {
            var fix = MemoryAdvice.Smallest(r.OneGpuAdvice);
            string fits = r.OneGpu.TotalBytes <= deviceBytes ? "fits" : fix is not null ? (fix.Gpus > 1 ? $"needs {fix.Gpus} GPUs: " : "") + $"`{fix.Setting}` ({DeviceMemory.Gb(fix.TotalBytes)} GB)"
                : r.OneGpuAdvice.Count > 0 ? $"nothing alone; all together {DeviceMemory.Gb(r.OneGpuAdvice[^1].TotalBytes)} GB" : "does not fit";
            lines.Add($"| {r.Preset} | {r.MicroBatch} x {r.Sequence} | {DeviceMemory.Gb(r.Release.TotalBytes)} GB | " +
                $"{DeviceMemory.Gb(r.Release.StateBytes)} / {DeviceMemory.Gb(r.Release.ActivationBytes + r.Release.TransientBytes)} | " +
                $"{DeviceMemory.Gb(r.OneGpu.TotalBytes)} GB | {DeviceMemory.Gb(r.OneGpu.StateBytes)} / {DeviceMemory.Gb(r.OneGpu.ActivationBytes + r.OneGpu.TransientBytes)} | {fits} |");
        }
        return string.Join("\n", lines) + "\n";
    }
}
