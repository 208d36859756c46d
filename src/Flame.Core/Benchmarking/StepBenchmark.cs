using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>What `flame bench step` measures.</summary>
public sealed record StepBenchmarkOptions(
    ModelConfig Model, Device Device, int MicroBatch, int Sequence, int Steps = 5, int Warmup = 2,
    DispatchMode Dispatch = DispatchMode.Grouped, ScalarType? ComputeType = null, long Seed = 1234);

public sealed record StepBenchmarkResult(
    string Preset, string Device, string Dtype, string Dispatch, int MicroBatch, int Sequence, int Steps,
    double SecondsPerStep, double TokensPerSecond, double ModelTflops, double FinalLoss);

/// <summary>
/// Full training steps (forward, backward, gradient clipping, AdamW) on synthetic token ids, timed after
/// a warm-up: <see cref="TrainBenchmark"/> with one micro-batch per step and synthetic data, reported briefly.
/// </summary>
public static class StepBenchmark
{
    public static StepBenchmarkResult Run(StepBenchmarkOptions o)
    {
        var r = TrainBenchmark.Run(new TrainBenchmarkOptions(o.Model, o.Device, o.MicroBatch, o.Sequence, o.Steps, o.Warmup,
            Dispatch: o.Dispatch, ComputeType: o.ComputeType, Seed: o.Seed));
        return new StepBenchmarkResult(r.Preset, r.Device, r.Dtype, r.Dispatch, r.MicroBatch, r.Sequence, r.Steps,
            r.SecondsPerStep, r.TokensPerSecond, r.ModelTflops, r.FinalLoss);
    }
}
