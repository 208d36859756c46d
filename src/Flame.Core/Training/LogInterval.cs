using System.Diagnostics;
using Flame.Checkpointing;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// What the trainer logs about the steps since its last log: the losses summed on the device (<see cref="Sums"/>, which
/// the step adds to), tokens and wall time. <see cref="Take"/> is the one host read of an interval (with the ranks' sums,
/// the one collective outside the step).
/// </summary>
sealed class LogInterval(Device device, double flopsPerToken, double? peakTflops) : IDisposable
{
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _tokens;

    public LossSums Sums { get; } = new(device);

    public void AddTokens(long tokens) => _tokens += tokens;

    /// <summary>The interval's means over steps and ranks, speed and expert load; starts the next interval.</summary>
    public TrainingLog Take(long step, double lr, Tensor gradNorm, TrainingStep training, CheckpointStore store)
    {
        var groups = training.Groups;
        int steps = Sums.Steps;
        double lm = groups.MeanOverRanks(Sums.Lm).item<float>() / steps;
        double balance = groups.MeanOverRanks(Sums.LoadBalancing).item<float>() / steps;
        double z = groups.MeanOverRanks(Sums.Z).item<float>() / steps;
        training.Load.SumOver(groups.World.AllReduceSum);
        double norm = gradNorm.item<float>();
        if (!double.IsFinite(lm) || !double.IsFinite(norm))
            throw FiniteCheck.Stop(double.IsFinite(lm) ? "gradient norm" : "loss", step, store);
        double tokensPerSecond = _tokens / _clock.Elapsed.TotalSeconds;
        double tflops = tokensPerSecond * flopsPerToken / 1e12;
        var log = new TrainingLog(step, lm, balance, z, lr, norm, tokensPerSecond, tflops, peakTflops > 0 ? tflops / peakTflops : null,
            training.Load.TakeSummary());
        Sums.Clear();
        _tokens = 0;
        _clock.Restart();
        return log;
    }

    public void Dispose() => Sums.Dispose();
}
