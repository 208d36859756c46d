using System.Diagnostics;
using Flame.Distributed;
using Flame.Model;
using Flame.Optimization;
using Flame.Runtime;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>What `flame bench train` measures.</summary>
/// <param name="DataPrefix">a token file (Megatron indexed dataset prefix), or null for synthetic ids.</param>
/// <param name="Accumulation">micro-batches per optimizer step (global batch = MicroBatch x Accumulation).</param>
/// <param name="PeakTflops">the device's peak for MFU; null: <see cref="Runtime.PeakTflops.For"/>.</param>
/// <param name="BreakdownSteps">profiled steps after the timed ones (0: no breakdown).</param>
/// <param name="BreakdownTimer">auto (CUDA events where cudart is found, else synchronised wall-clock), events or sync.</param>
/// <param name="LossChunk">tokens per chunk of the output layer and loss (training.loss_chunk; 0: the whole logits at once).</param>
public sealed record TrainBenchmarkOptions(
    ModelConfig Model, Device Device, int MicroBatch, int Sequence, int Steps = 5, int Warmup = 2, int Accumulation = 1,
    string? DataPrefix = null, DispatchMode Dispatch = DispatchMode.Grouped, ScalarType? ComputeType = null,
    double? PeakTflops = null, bool FusedAdamW = true, bool CacheWeightCasts = true, int BreakdownSteps = 0,
    string BreakdownTimer = "auto", double LearningRate = 3e-4, long Seed = 1234, RecomputeMode Recompute = RecomputeMode.None,
    int LossChunk = 0);

/// <summary>One phase's share of a profiled step.</summary>
public sealed record PhaseTime(string Phase, double MillisecondsPerStep, double Share);

/// <summary>The per-phase breakdown: how it was timed, the profiled step's length, and the phases.</summary>
public sealed record PhaseBreakdown(string Timer, int Steps, double MillisecondsPerStep, IReadOnlyList<PhaseTime> Phases);

/// <summary>Device memory: where it was read and what it means; on CPU, the process's peak RSS above its RSS before the model (bytes).</summary>
public sealed record MemoryReading(long? PeakBytes, string How);

public sealed record TrainBenchmarkResult(
    string Preset, string Device, string Dtype, string Dispatch, string Data, int MicroBatch, int Accumulation, int Sequence,
    int Steps, int Warmup, bool FusedAdamW, bool CacheWeightCasts, double SecondsPerStep, double TokensPerSecond,
    double FlopsPerToken, double ModelTflops, double? PeakTflops, double? Mfu, double FirstLoss, double FinalLoss,
    IReadOnlyList<double> Losses, MemoryReading Memory, PhaseBreakdown? Breakdown, string Recompute = "none", int LossChunk = 0);

/// <summary>One layout's measurement: seconds per step (the slowest rank's), each timed step's lm loss (mean over ranks), memory and the breakdown.</summary>
public sealed record StepTiming(double SecondsPerStep, IReadOnlyList<double> Losses, MemoryReading Memory, PhaseBreakdown? Breakdown)
{
    public double FirstLoss => Losses[0];
    public double FinalLoss => Losses[^1];
}

/// <summary>
/// The trainer's own step (<see cref="TrainingStep"/>: per micro-batch forward, lm loss plus the MoE losses scaled by
/// 1/accumulation, backward, expert-load counting; gradients averaged over the ranks and clipped, AdamW, the weight-cast
/// refresh) timed after a warm-up, with no host read or synchronisation inside the window; the losses are read after it.
/// Optionally a breakdown follows: more steps with phase marks (<see cref="PhaseTimeline"/>), which may wait on the device.
/// Steps read the batches the trainer would (a token file's training split) or one synthetic global batch, and run at a
/// constant learning rate.
/// </summary>
public static class TrainBenchmark
{
    /// <summary>The step options' own mistakes, found before anything is built (and before ranks join).</summary>
    public static void Check(ModelConfig model, int microBatch, int sequence, int steps, int warmup, int accumulation, int breakdownSteps)
    {
        if (sequence > model.MaxPositions)
            throw new UserError($"--seq {sequence} exceeds the model's max positions ({model.MaxPositions})");
        if (microBatch < 1 || steps < 1 || warmup < 0 || accumulation < 1 || breakdownSteps < 0)
            throw new UserError("--micro-batch, --steps and --accumulation must be at least 1, --warmup and --breakdown at least 0");
    }

    public static TrainBenchmarkResult Run(TrainBenchmarkOptions o)
    {
        Check(o.Model, o.MicroBatch, o.Sequence, o.Steps, o.Warmup, o.Accumulation, o.BreakdownSteps);
        var step = StepOptionsOf(o, o.MicroBatch * o.Accumulation);
        var timing = Measure(step, ParallelLayout.Single, new LocalCommunicator(), o.Sequence, o.DataPrefix, o.Steps, o.Warmup,
            o.BreakdownSteps, o.BreakdownTimer, o.LearningRate, out var source);
        int tokensPerStep = o.MicroBatch * o.Accumulation * o.Sequence;
        double tokensPerSecond = tokensPerStep / timing.SecondsPerStep;
        double flopsPerToken = ModelAccounting.Of(o.Model, o.Sequence).FlopsPerToken;
        double tflops = tokensPerSecond * flopsPerToken / 1e12;
        double? peak = PeakTflops.For(o.Device, o.PeakTflops);
        return new TrainBenchmarkResult(
            o.Model.Name, o.Device.ToString(), step.ComputeType.ToString(), o.Dispatch.ToString(), source,
            o.MicroBatch, o.Accumulation, o.Sequence, o.Steps, o.Warmup, o.FusedAdamW, o.CacheWeightCasts, timing.SecondsPerStep,
            tokensPerSecond, flopsPerToken, tflops, peak, peak > 0 ? tflops / peak : null, timing.FirstLoss, timing.FinalLoss,
            timing.Losses, timing.Memory, timing.Breakdown, RecomputeModes.Name(o.Recompute), o.LossChunk);
    }

    /// <summary>The training step a benchmark's options describe (the trainer's AdamW settings; bf16 on CUDA unless asked otherwise).</summary>
    public static StepOptions StepOptionsOf(TrainBenchmarkOptions o, int globalBatch, bool distributedOptimizer = false) =>
        new(o.Model, o.Device, o.ComputeType ?? ComputeTarget.DefaultComputeType(o.Device), o.MicroBatch, globalBatch,
            new OptimizerSettings(Fused: o.FusedAdamW), o.Seed, o.LearningRate, distributedOptimizer, o.Dispatch, o.CacheWeightCasts,
            o.Recompute, o.LossChunk);

    /// <summary>
    /// Builds the step on <paramref name="layout"/> (every rank of <paramref name="world"/> calls this), runs the warm-up,
    /// times the steps and profiles the breakdown steps. Every rank gets the same result.
    /// </summary>
    public static StepTiming Measure(StepOptions options, ParallelLayout layout, ICommunicator world, int sequence, string? dataPrefix,
        int steps, int warmup, int breakdownSteps, string breakdownTimer, double lr, out string source)
    {
        var device = options.Device;
        var timer = breakdownSteps > 0 ? ChooseClock(device, breakdownTimer) : null;
        var memoryBefore = device.type == DeviceType.CUDA ? CudaRuntimeApi.Instance?.MemoryInUse().Used : HostPeakMemory.Restart();
        using var step = TrainingStep.Build(options, layout, world);
        long totalSteps = warmup + steps + breakdownSteps;
        using var batches = dataPrefix is null
            ? TokenBatches.Synthetic(step.Sampler, sequence, options.Model.VocabSize, device, options.Seed + 1)
            : TokenBatches.FromFile([dataPrefix], sequence, options.Seed, totalSteps * options.GlobalBatch, step.Sampler, options.Model.VocabSize, device);
        source = batches.Source;

        long next = 0;
        using (var unread = new LossSums(device))
            for (int i = 0; i < warmup; i++) step.Run(next++, lr, batches, unread).Dispose();
        Synchronize(device);
        if (world.Size > 1) world.Barrier(); // the ranks start the window together
        var losses = Enumerable.Range(0, steps).Select(_ => new LossSums(device)).ToList(); // one per step, read after the window
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step.Run(next++, lr, batches, losses[i]).Dispose();
        Synchronize(device);
        double seconds = Slowest(world, clock.Elapsed.TotalSeconds / steps, device);
        var means = losses.Select(l => (double)step.Groups.MeanOverRanks(l.Lm).item<float>()).ToList();
        losses.ForEach(l => l.Dispose());
        var memory = ReadMemory(device, memoryBefore);

        PhaseBreakdown? breakdown = null;
        if (timer is not null)
        {
            using (timer)
            {
                var timeline = new PhaseTimeline(timer);
                step.Probe = timeline;
                var totals = Enum.GetValues<StepPhase>().ToDictionary(p => p, _ => 0.0);
                for (int i = 0; i < breakdownSteps; i++)
                {
                    timeline.BeginStep();
                    using var unread = new LossSums(device);
                    step.Run(next++, lr, batches, unread).Dispose();
                    foreach (var (phase, s) in timeline.EndStep()) totals[phase] += s;
                }
                step.Probe = null;
                double stepMs = totals.Values.Sum() * 1000 / breakdownSteps;
                breakdown = new PhaseBreakdown(timeline.ClockName, breakdownSteps, stepMs,
                    totals.Select(kv => new PhaseTime(PhaseName(kv.Key), kv.Value * 1000 / breakdownSteps,
                        stepMs > 0 ? kv.Value * 1000 / breakdownSteps / stepMs : 0)).ToList());
            }
        }
        return new StepTiming(seconds, means, memory, breakdown);
    }

    /// <summary>The largest of the ranks' seconds per step: a step ends when its last rank ends.</summary>
    static double Slowest(ICommunicator world, double seconds, Device device)
    {
        if (world.Size == 1) return seconds;
        using var mine = tensor(new[] { seconds }, device: device);
        using var all = world.AllGather(mine);
        return all.max().cpu().item<double>();
    }

    /// <summary>snake_case names, as the JSON prints them.</summary>
    public static string PhaseName(StepPhase phase) => phase switch
    {
        StepPhase.MoeDispatch => "moe_dispatch",
        StepPhase.ExpertGemm => "expert_gemm",
        StepPhase.SharedFfn => "shared_ffn",
        _ => phase.ToString().ToLowerInvariant(),
    };

    static IPhaseClock ChooseClock(Device device, string breakdownTimer)
    {
        bool cuda = device.type == DeviceType.CUDA;
        switch (breakdownTimer)
        {
            case "sync": return new SynchronisedClock(device);
            case "events":
                if (!cuda) throw new UserError("--breakdown-timer events needs --device cuda");
                return CudaRuntimeApi.Instance is { } api ? new CudaEventClock(api)
                    : throw new UserError("--breakdown-timer events: no CUDA runtime (cudart) found beside the loaded libtorch");
            case "auto":
                return cuda && CudaRuntimeApi.Instance is { } found ? new CudaEventClock(found) : new SynchronisedClock(device);
            default:
                throw new UserError($"unknown breakdown timer '{breakdownTimer}'; valid choices: auto, events, sync");
        }
    }

    static MemoryReading ReadMemory(Device device, long? before)
    {
        if (device.type != DeviceType.CUDA)
            return before is { } rss && HostPeakMemory.Peak() is { } peak
                ? new MemoryReading(peak - rss, "the process's peak resident memory during the warm-up and timed steps minus " +
                    "its resident memory before the model was built (/proc/self/status VmHWM - VmRSS, the peak reset first); memory the " +
                    "process freed earlier is reused without growing it, so it means the step's memory in a fresh process")
                : new MemoryReading(null, "not measured on CPU (no /proc/self/status or clear_refs)");
        if (CudaRuntimeApi.Instance is not { } api)
            return new MemoryReading(null, "TorchSharp exposes no CUDA memory statistics and no cudart was found");
        var (used, _) = api.MemoryInUse();
        // libtorch's caching allocator keeps what it reserved, so memory in use after the timed steps is the
        // peak it reserved, plus the CUDA context (counted in "before").
        return new MemoryReading(used - (before ?? 0),
            "device memory in use after the timed steps minus before the model (cudaMemGetInfo): the peak reserved by " +
            "libtorch's caching allocator, which keeps what it reserved; >= torch.cuda.max_memory_allocated");
    }

    static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
