using System.Diagnostics;
using Flame.Model;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>What `flame bench train` measures.</summary>
/// <param name="DataPrefix">a token file (Megatron indexed dataset prefix), or null for synthetic ids.</param>
/// <param name="Accumulation">micro-batches per optimizer step (global batch = MicroBatch x Accumulation).</param>
/// <param name="PeakTflops">the device's peak for MFU; null: 989 (H100 bf16 dense) on CUDA, none on CPU.</param>
/// <param name="BreakdownSteps">profiled steps after the timed ones (0: no breakdown).</param>
/// <param name="BreakdownTimer">auto (CUDA events where cudart is found, else synchronised wall-clock), events or sync.</param>
public sealed record TrainBenchmarkOptions(
    ModelConfig Model, Device Device, int MicroBatch, int Sequence, int Steps = 5, int Warmup = 2, int Accumulation = 1,
    string? DataPrefix = null, DispatchMode Dispatch = DispatchMode.Grouped, ScalarType? ComputeType = null,
    double? PeakTflops = null, bool FusedAdamW = false, bool CacheWeightCasts = true, int BreakdownSteps = 0,
    string BreakdownTimer = "auto", double LearningRate = 3e-4, long Seed = 1234);

/// <summary>One phase's share of a profiled step.</summary>
public sealed record PhaseTime(string Phase, double MillisecondsPerStep, double Share);

/// <summary>The per-phase breakdown: how it was timed, the profiled step's length, and the phases.</summary>
public sealed record PhaseBreakdown(string Timer, int Steps, double MillisecondsPerStep, IReadOnlyList<PhaseTime> Phases);

/// <summary>Device memory: where it was read and what it means.</summary>
public sealed record MemoryReading(long? PeakBytes, string How);

public sealed record TrainBenchmarkResult(
    string Preset, string Device, string Dtype, string Dispatch, string Data, int MicroBatch, int Accumulation, int Sequence,
    int Steps, int Warmup, bool FusedAdamW, bool CacheWeightCasts, double SecondsPerStep, double TokensPerSecond,
    double FlopsPerToken, double ModelTflops, double? PeakTflops, double? Mfu, double FirstLoss, double FinalLoss,
    MemoryReading Memory, PhaseBreakdown? Breakdown);

/// <summary>
/// Real training steps, as <see cref="Trainer"/> runs them (spec §2): per micro-batch forward, lm loss plus the
/// MoE losses scaled by 1/accumulation, backward, expert-load counting; then global-norm clipping, AdamW from
/// <see cref="OptimizerFactory"/> (or its fused step), and the weight-cast refresh. Timed after a warm-up with
/// no host read or synchronisation inside the window; the losses are read after it. Optionally a breakdown
/// follows: more steps with phase marks (<see cref="PhaseTimeline"/>), which may wait on the device.
/// </summary>
public static class TrainBenchmark
{
    public static TrainBenchmarkResult Run(TrainBenchmarkOptions o)
    {
        if (o.Sequence > o.Model.MaxPositions)
            throw new UserError($"--seq {o.Sequence} exceeds the model's max positions ({o.Model.MaxPositions})");
        if (o.MicroBatch < 1 || o.Steps < 1 || o.Warmup < 0 || o.Accumulation < 1 || o.BreakdownSteps < 0)
            throw new UserError("--micro-batch, --steps and --accumulation must be at least 1, --warmup and --breakdown at least 0");
        bool cuda = o.Device.type == DeviceType.CUDA;
        var timer = o.BreakdownSteps > 0 ? ChooseClock(o) : null;
        var memoryBefore = cuda ? CudaRuntimeApi.Instance?.MemoryInUse().Used : null;

        manual_seed(o.Seed);
        using var model = new FlameModel(o.Model);
        model.to(o.Device);
        // bf16 compute with fp32 masters on CUDA, fp32 on CPU (spec §2), unless asked otherwise.
        model.ComputeType = o.ComputeType ?? (cuda ? ScalarType.BFloat16 : ScalarType.Float32);
        model.Dispatch = o.Dispatch;
        model.CacheWeightCasts = o.CacheWeightCasts;
        var parameters = model.parameters().ToList();
        var settings = new OptimizerSettings();
        using var optimizer = OptimizerFactory.Create(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), settings, o.LearningRate);
        using var load = new ExpertLoadTracker(o.Model, o.Device);
        long totalSteps = o.Warmup + o.Steps + o.BreakdownSteps;
        using var batches = new BenchmarkBatches(o.DataPrefix, new ModelShape(o.MicroBatch, o.Accumulation, o.Sequence, o.Model.VocabSize),
            o.Device, totalSteps, o.Seed);

        // One optimizer step; returns the step's mean lm loss as a device tensor (never read here).
        Tensor Step(long step, PhaseTimeline? phases)
        {
            using var scope = NewDisposeScope();
            OptimizerFactory.SetLearningRate(optimizer, o.LearningRate);
            optimizer.zero_grad();
            var lmSum = zeros(1, device: o.Device).squeeze();
            for (int micro = 0; micro < o.Accumulation; micro++)
            {
                var tokens = batches.Get(step, micro);
                var output = model.forward(tokens[.., ..^1]);
                var lm = FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]);
                (output.TrainingLoss(lm) / o.Accumulation).backward();
                load.Add(output.Moe);
                lmSum = lmSum + lm.detach() / o.Accumulation;
            }
            phases?.Begin(StepPhase.Optimizer);
            GradientClipping.ClipGlobalNorm(parameters, settings.ClipNorm);
            if (o.FusedAdamW) FusedAdamW.Step(optimizer); else optimizer.step();
            model.RefreshWeightCasts();
            return lmSum.MoveToOuterDisposeScope();
        }

        long next = 0;
        for (int i = 0; i < o.Warmup; i++) Step(next++, null).Dispose();
        Synchronize(o.Device);
        var losses = new List<Tensor>();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < o.Steps; i++) losses.Add(Step(next++, null));
        Synchronize(o.Device);
        double seconds = clock.Elapsed.TotalSeconds / o.Steps;
        double firstLoss = losses[0].item<float>(), finalLoss = losses[^1].item<float>();
        losses.ForEach(l => l.Dispose());
        var memory = ReadMemory(o.Device, memoryBefore);

        PhaseBreakdown? breakdown = null;
        if (timer is not null)
        {
            using (timer)
            {
                var timeline = new PhaseTimeline(timer);
                model.PhaseProbe = timeline;
                var totals = Enum.GetValues<StepPhase>().ToDictionary(p => p, _ => 0.0);
                for (int i = 0; i < o.BreakdownSteps; i++)
                {
                    timeline.BeginStep();
                    Step(next++, timeline).Dispose();
                    foreach (var (phase, s) in timeline.EndStep()) totals[phase] += s;
                }
                model.PhaseProbe = null;
                double stepMs = totals.Values.Sum() * 1000 / o.BreakdownSteps;
                breakdown = new PhaseBreakdown(timeline.ClockName, o.BreakdownSteps, stepMs,
                    totals.Select(kv => new PhaseTime(PhaseName(kv.Key), kv.Value * 1000 / o.BreakdownSteps,
                        stepMs > 0 ? kv.Value * 1000 / o.BreakdownSteps / stepMs : 0)).ToList());
            }
        }

        int tokensPerStep = o.MicroBatch * o.Accumulation * o.Sequence;
        double tokensPerSecond = tokensPerStep / seconds;
        double flopsPerToken = ModelAccounting.Of(o.Model, o.Sequence).FlopsPerToken;
        double tflops = tokensPerSecond * flopsPerToken / 1e12;
        double? peak = o.PeakTflops ?? (cuda ? 989.0 : null);
        return new TrainBenchmarkResult(
            o.Model.Name, o.Device.ToString(), model.ComputeType.ToString(), o.Dispatch.ToString(), batches.Source,
            o.MicroBatch, o.Accumulation, o.Sequence, o.Steps, o.Warmup, o.FusedAdamW, o.CacheWeightCasts, seconds,
            tokensPerSecond, flopsPerToken, tflops, peak, peak > 0 ? tflops / peak : null, firstLoss, finalLoss, memory, breakdown);
    }

    /// <summary>snake_case names, as the JSON prints them.</summary>
    public static string PhaseName(StepPhase phase) => phase switch
    {
        StepPhase.MoeDispatch => "moe_dispatch",
        StepPhase.ExpertGemm => "expert_gemm",
        StepPhase.SharedFfn => "shared_ffn",
        _ => phase.ToString().ToLowerInvariant(),
    };

    static IPhaseClock ChooseClock(TrainBenchmarkOptions o)
    {
        bool cuda = o.Device.type == DeviceType.CUDA;
        switch (o.BreakdownTimer)
        {
            case "sync": return new SynchronisedClock(o.Device);
            case "events":
                if (!cuda) throw new UserError("--breakdown-timer events needs --device cuda");
                return CudaRuntimeApi.Instance is { } api ? new CudaEventClock(api)
                    : throw new UserError("--breakdown-timer events: no CUDA runtime (cudart) found beside the loaded libtorch");
            case "auto":
                return cuda && CudaRuntimeApi.Instance is { } found ? new CudaEventClock(found) : new SynchronisedClock(o.Device);
            default:
                throw new UserError($"unknown breakdown timer '{o.BreakdownTimer}'; valid choices: auto, events, sync");
        }
    }

    static MemoryReading ReadMemory(Device device, long? before)
    {
        if (device.type != DeviceType.CUDA)
            return new MemoryReading(null, "not measured on CPU");
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
