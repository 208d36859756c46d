using System.Diagnostics;
using Flame.Distributed;
using Flame.Model;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>What `flame bench train --parallel` measures.</summary>
/// <param name="Accumulation">micro-batches per step on each rank (global batch = MicroBatch x Accumulation x world).</param>
/// <param name="PeakTflops">one device's peak for MFU; null: 989 (H100 bf16 dense) on CUDA, none on CPU.</param>
public sealed record ParallelBenchmarkOptions(
    ModelConfig Model, Device Device, int MicroBatch, int Sequence, int Accumulation = 1, int Steps = 5, int Warmup = 2,
    ScalarType? ComputeType = null, double? PeakTflops = null, bool DistributedOptimizer = false,
    double LearningRate = 3e-4, long Seed = 1234);

/// <summary>One layout's timing: global tokens/s, and model TFLOP/s per device (the job's rate over its ranks).</summary>
public sealed record ParallelLayoutTiming(
    int Data, int Expert, double SecondsPerStep, double TokensPerSecond, double TflopsPerDevice, double? Mfu,
    double FirstLoss, double FinalLoss);

public sealed record ParallelBenchmarkResult(
    string Preset, string Device, string Dtype, string Launcher, int World, int MicroBatch, int Accumulation, int Sequence,
    int GlobalBatch, int Steps, int Warmup, bool DistributedOptimizer, double FlopsPerToken, double? PeakTflops,
    IReadOnlyList<ParallelLayoutTiming> Layouts);

/// <summary>
/// The paper's training-efficiency study (Figure 3: throughput of the 1.7B model under expert-parallel layouts) on
/// the ranks of a launched job: every expert-parallel size the world and the experts allow, each trained for a few
/// warm-up and timed steps of the trainer's step (<see cref="ParallelTraining"/>: expert slices and all-to-all,
/// gradient averaging and clipping over the ranks, AdamW replicated or sharded) on the same synthetic global batch,
/// so the layouts (and one process with the same global batch) differ only in how the work is split. The timed
/// window adds no host read of its own and one device synchronisation at its end (the expert-parallel dispatch
/// still reads its counts, as in training); a layout's step time is its slowest rank's. FLOPs are
/// <see cref="ModelAccounting"/>'s, the trainer's count.
/// </summary>
public static class ParallelBenchmark
{
    /// <summary>
    /// The expert-parallel sizes a job can run: divisors of the world that divide the experts (1 always, and only 1
    /// for a dense model). Data-parallel size = world / expert-parallel size.
    /// </summary>
    public static IReadOnlyList<int> ExpertSizes(int world, int experts) =>
        Enumerable.Range(1, world).Where(ep => world % ep == 0 && (ep == 1 || experts > 0 && experts % ep == 0)).ToList();

    /// <summary>The options' own mistakes, found before the ranks join (so nothing is printed first).</summary>
    public static ParallelBenchmarkOptions Check(ParallelBenchmarkOptions o)
    {
        if (o.Sequence > o.Model.MaxPositions)
            throw new UserError($"--seq {o.Sequence} exceeds the model's max positions ({o.Model.MaxPositions})");
        if (o.MicroBatch < 1 || o.Steps < 1 || o.Warmup < 0 || o.Accumulation < 1)
            throw new UserError("--micro-batch, --steps and --accumulation must be at least 1, --warmup at least 0");
        return o;
    }

    /// <summary>Runs every layout on the ranks of <paramref name="world"/> (every rank calls this); each rank gets the same result.</summary>
    public static ParallelBenchmarkResult Run(ParallelBenchmarkOptions o, ICommunicator world, string launcher)
    {
        Check(o);
        bool cuda = o.Device.type == DeviceType.CUDA;
        var dtype = o.ComputeType ?? (cuda ? ScalarType.BFloat16 : ScalarType.Float32);
        int globalBatch = o.MicroBatch * o.Accumulation * world.Size;
        double flopsPerToken = ModelAccounting.Of(o.Model, o.Sequence).FlopsPerToken;
        double? peak = o.PeakTflops ?? (cuda ? 989.0 : null);
        var timings = ExpertSizes(world.Size, o.Model.Experts)
            .Select(ep => Time(o, world, ep, dtype, globalBatch, flopsPerToken, peak)).ToList();
        return new ParallelBenchmarkResult(o.Model.Name, o.Device.ToString(), dtype.ToString(), launcher, world.Size,
            o.MicroBatch, o.Accumulation, o.Sequence, globalBatch, o.Steps, o.Warmup, o.DistributedOptimizer, flopsPerToken, peak, timings);
    }

    static ParallelLayoutTiming Time(ParallelBenchmarkOptions o, ICommunicator world, int expert, ScalarType dtype,
        int globalBatch, double flopsPerToken, double? peak)
    {
        var config = new TrainingConfig
        {
            MicroBatch = o.MicroBatch, GlobalBatch = globalBatch, Sequence = o.Sequence, Seed = o.Seed,
            Parallel = new ParallelSettings { Expert = expert, DistributedOptimizer = o.DistributedOptimizer },
        };
        using var parallel = new ParallelTraining(config, o.Model, world);
        manual_seed(o.Seed); // the same initial model on every rank and in every layout, as the trainer starts
        using var model = new FlameModel(o.Model);
        model.to(o.Device);
        model.ComputeType = dtype;
        model.CacheWeightCasts = true;
        parallel.Apply(model);
        using var optimizer = parallel.CreateOptimizer(model, config.Optimizer, o.LearningRate);
        using var load = new ExpertLoadTracker(o.Model, o.Device);
        // One synthetic global batch, the same on every rank, in every layout and for every world size; each rank
        // takes its share as the trainer reads a step's samples (ParallelTraining.Samples), so one process and N ranks
        // train on the same sequences.
        manual_seed(o.Seed + 1);
        using var global = randint(0, o.Model.VocabSize, [globalBatch, o.Sequence + 1]);
        var batches = new List<Tensor>();
        for (int micro = 0; micro < parallel.Accumulation; micro++)
        {
            using var scope = NewDisposeScope();
            batches.Add(global.index_select(0, tensor(parallel.Samples(0, micro))).to(o.Device).MoveToOuterDisposeScope());
        }

        // The trainer's step (Trainer.Run); returns this rank's mean lm loss as a device tensor, not read here.
        Tensor Step()
        {
            using var scope = NewDisposeScope();
            optimizer.SetLearningRate(o.LearningRate);
            optimizer.ZeroGrad();
            var lmSum = zeros(1, device: o.Device).squeeze();
            foreach (var tokens in batches)
            {
                var output = model.forward(tokens[.., ..^1]);
                var lm = FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]);
                (output.TrainingLoss(lm) / parallel.Accumulation).backward();
                load.Add(output.Moe);
                lmSum = lmSum + lm.detach() / parallel.Accumulation;
            }
            parallel.AverageAndClip(config.Optimizer.ClipNorm);
            optimizer.Step();
            model.RefreshWeightCasts();
            return lmSum.MoveToOuterDisposeScope();
        }

        try
        {
            for (int i = 0; i < o.Warmup; i++) Step().Dispose();
            Synchronize(o.Device);
            world.Barrier(); // the ranks start the window together
            var losses = new List<Tensor>();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < o.Steps; i++) losses.Add(Step());
            Synchronize(o.Device);
            double mine = clock.Elapsed.TotalSeconds / o.Steps;
            double seconds = Slowest(world, mine, o.Device);
            double first = parallel.MeanOverRanks(losses[0]).item<float>(), final = parallel.MeanOverRanks(losses[^1]).item<float>();
            losses.ForEach(l => l.Dispose());
            double tokensPerSecond = (double)globalBatch * o.Sequence / seconds;
            double perDevice = tokensPerSecond * flopsPerToken / 1e12 / world.Size;
            return new ParallelLayoutTiming(parallel.Layout.Data, parallel.Layout.Expert, seconds, tokensPerSecond, perDevice,
                peak > 0 ? perDevice / peak : null, first, final);
        }
        finally { batches.ForEach(b => b.Dispose()); }
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

    /// <summary>The largest of the ranks' seconds per step: a step ends when its last rank ends.</summary>
    static double Slowest(ICommunicator world, double seconds, Device device)
    {
        if (world.Size == 1) return seconds;
        using var mine = tensor(new[] { seconds }, device: device);
        using var all = world.AllGather(mine);
        return all.max().cpu().item<double>();
    }

    static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
