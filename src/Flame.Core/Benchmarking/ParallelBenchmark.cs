using Flame.Distributed;
using Flame.Model;
using Flame.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>What `flame bench train --parallel` measures: <see cref="TrainBenchmarkOptions"/> on every rank, the distributed optimizer or not.</summary>
/// <param name="Step">micro-batch, accumulation (micro-batches per step on each rank: global batch = micro x accumulation x world), data, dtype, dispatch, AdamW, breakdown.</param>
public sealed record ParallelBenchmarkOptions(TrainBenchmarkOptions Step, bool DistributedOptimizer = false);

/// <summary>One layout's timing: global tokens/s, and model TFLOP/s per device (the job's rate over its ranks).</summary>
public sealed record ParallelLayoutTiming(
    int Data, int Expert, double SecondsPerStep, double TokensPerSecond, double TflopsPerDevice, double? Mfu,
    double FirstLoss, double FinalLoss, IReadOnlyList<double> Losses, PhaseBreakdown? Breakdown);

public sealed record ParallelBenchmarkResult(
    string Preset, string Device, string Dtype, string Dispatch, string Data, string Launcher, int World, int MicroBatch, int Accumulation,
    int Sequence, int GlobalBatch, int Steps, int Warmup, bool DistributedOptimizer, bool FusedAdamW, double FlopsPerToken, double? PeakTflops,
    IReadOnlyList<ParallelLayoutTiming> Layouts);

/// <summary>
/// The paper's training-efficiency study (Figure 3: throughput of the 1.7B model under expert-parallel layouts) on
/// the ranks of a launched job: every expert-parallel size the world and the experts allow, each timed by
/// <see cref="TrainBenchmark.Measure"/> (the trainer's step: expert slices and all-to-all, gradient averaging and
/// clipping over the ranks, AdamW replicated or sharded) on the same global batch, so the layouts (and one process
/// with the same global batch) differ only in how the work is split. The timed window adds no host read of its own
/// and one device synchronisation at its end (the expert-parallel dispatch still reads its counts, as in training);
/// a layout's step time is its slowest rank's. FLOPs are <see cref="ModelAccounting"/>'s, the trainer's count.
/// </summary>
public static class ParallelBenchmark
{
    /// <summary>
    /// The expert-parallel sizes a job can run: divisors of the world that divide the experts (1 always, and only 1
    /// for a dense model or the reference dispatch, which computes every expert on each rank). Data-parallel size = world / expert-parallel size.
    /// </summary>
    public static IReadOnlyList<int> ExpertSizes(int world, int experts, DispatchMode dispatch = DispatchMode.Grouped) =>
        Enumerable.Range(1, world).Where(ep => world % ep == 0 && (ep == 1 || dispatch == DispatchMode.Grouped && experts > 0 && experts % ep == 0)).ToList();

    /// <summary>The options' own mistakes, found before the ranks join (so nothing is printed first).</summary>
    public static ParallelBenchmarkOptions Check(ParallelBenchmarkOptions o)
    {
        var s = o.Step;
        TrainBenchmark.Check(s.Model, s.MicroBatch, s.Sequence, s.Steps, s.Warmup, s.Accumulation, s.BreakdownSteps);
        return o;
    }

    /// <summary>Runs every layout on the ranks of <paramref name="world"/> (every rank calls this); each rank gets the same result.</summary>
    public static ParallelBenchmarkResult Run(ParallelBenchmarkOptions o, ICommunicator world, string launcher)
    {
        Check(o);
        var s = o.Step;
        int globalBatch = s.MicroBatch * s.Accumulation * world.Size;
        var step = TrainBenchmark.StepOptionsOf(s, globalBatch, o.DistributedOptimizer);
        double flopsPerToken = ModelAccounting.Of(s.Model, s.Sequence).FlopsPerToken;
        double? peak = PeakTflops.For(s.Device, s.PeakTflops);
        string source = "synthetic";
        var timings = new List<ParallelLayoutTiming>();
        foreach (int expert in ExpertSizes(world.Size, s.Model.Experts, s.Dispatch))
        {
            var layout = new ParallelLayout(world.Size, world.Size / expert, expert);
            var t = TrainBenchmark.Measure(step, layout, world, s.Sequence, s.DataPrefix, s.Steps, s.Warmup, s.BreakdownSteps,
                s.BreakdownTimer, s.LearningRate, out source);
            double tokensPerSecond = (double)globalBatch * s.Sequence / t.SecondsPerStep;
            double perDevice = tokensPerSecond * flopsPerToken / 1e12 / world.Size;
            timings.Add(new ParallelLayoutTiming(layout.Data, layout.Expert, t.SecondsPerStep, tokensPerSecond, perDevice,
                peak > 0 ? perDevice / peak : null, t.FirstLoss, t.FinalLoss, t.Losses, t.Breakdown));
        }
        return new ParallelBenchmarkResult(s.Model.Name, s.Device.ToString(), step.ComputeType.ToString(), s.Dispatch.ToString(), source,
            launcher, world.Size, s.MicroBatch, s.Accumulation, s.Sequence, globalBatch, s.Steps, s.Warmup, o.DistributedOptimizer,
            s.FusedAdamW, flopsPerToken, peak, timings);
    }

    /// <summary>The result as a CSV table, one row per layout (`--output`).</summary>
    public static Analysis.CsvTable Csv(ParallelBenchmarkResult r)
    {
        var table = new Analysis.CsvTable("preset", "device", "dtype", "world", "data", "expert", "global_batch", "seq",
            "seconds_per_step", "tokens_per_s", "tflops_per_device", "mfu", "first_loss", "final_loss");
        foreach (var l in r.Layouts)
            table.Add(r.Preset, r.Device, r.Dtype, r.World, l.Data, l.Expert, r.GlobalBatch, r.Sequence,
                l.SecondsPerStep, l.TokensPerSecond, l.TflopsPerDevice, (object?)l.Mfu ?? "", l.FirstLoss, l.FinalLoss);
        return table;
    }
}
