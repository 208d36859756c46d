using System.Diagnostics;
using Flame.Model;
using Flame.Training;
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
/// a warm-up. The host waits for the device only at the end of the timed window.
/// </summary>
public static class StepBenchmark
{
    public static StepBenchmarkResult Run(StepBenchmarkOptions o)
    {
        if (o.Sequence > o.Model.MaxPositions)
            throw new UserError($"--seq {o.Sequence} exceeds the model's max positions ({o.Model.MaxPositions})");
        if (o.MicroBatch < 1 || o.Steps < 1 || o.Warmup < 0)
            throw new UserError("--micro-batch and --steps must be at least 1, --warmup at least 0");
        manual_seed(o.Seed);
        using var model = new FlameModel(o.Model);
        model.to(o.Device);
        bool cuda = o.Device.type == DeviceType.CUDA;
        // bf16 compute with fp32 masters on CUDA, fp32 on CPU (spec §2), unless asked otherwise.
        model.ComputeType = o.ComputeType ?? (cuda ? ScalarType.BFloat16 : ScalarType.Float32);
        model.Dispatch = o.Dispatch;
        var parameters = model.parameters().ToList();
        var settings = new OptimizerSettings();
        using var optimizer = OptimizerFactory.Create(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), settings, 3e-4);
        var tokens = randint(0, o.Model.VocabSize, [o.MicroBatch, o.Sequence + 1], device: o.Device);
        var inputs = tokens[.., ..^1];
        var targets = tokens[.., 1..];

        Tensor Step()
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var output = model.forward(inputs);
            var lm = FlameModel.LanguageModelLoss(output.Logits, targets);
            var loss = output.TrainingLoss(lm);
            loss.backward();
            GradientClipping.ClipGlobalNorm(parameters, settings.ClipNorm);
            optimizer.step();
            return lm.detach().MoveToOuterDisposeScope();
        }

        for (int i = 0; i < o.Warmup; i++) Step().Dispose();
        Synchronize(o.Device);
        var clock = Stopwatch.StartNew();
        Tensor last = zeros(1);
        for (int i = 0; i < o.Steps; i++) { last.Dispose(); last = Step(); }
        double finalLoss = last.item<float>(); // waits for the device
        Synchronize(o.Device);
        double seconds = clock.Elapsed.TotalSeconds / o.Steps;
        double tokensPerSecond = (double)o.MicroBatch * o.Sequence / seconds;
        var accounting = ModelAccounting.Of(o.Model, o.Sequence);
        return new StepBenchmarkResult(
            o.Model.Name, o.Device.ToString(), model.ComputeType.ToString(), o.Dispatch.ToString(), o.MicroBatch, o.Sequence,
            o.Steps, seconds, tokensPerSecond, tokensPerSecond * accounting.FlopsPerToken / 1e12, finalLoss);
    }

    static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
