using System.Diagnostics;
using Flame.Checkpointing;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// What the trainer logs about the steps since its last log: the losses summed on the device, tokens and wall time.
/// <see cref="Take"/> is the one host read of an interval (with the ranks' sums, the one collective outside the step).
/// </summary>
sealed class LogInterval(Device device, double flopsPerToken, double? peakTflops)
{
    Tensor _lm = Zero(device), _balance = Zero(device), _z = Zero(device);
    readonly Stopwatch _clock = Stopwatch.StartNew();
    long _tokens;
    int _steps;

    static Tensor Zero(Device device) => zeros(1, device: device).squeeze().DetachFromDisposeScope();

    /// <summary>The loss sums since the last log (lm, load balancing, z), for the finiteness check.</summary>
    public IReadOnlyList<Tensor> Sums => [_lm, _balance, _z];

    public void Add(StepLosses losses, long tokens)
    {
        _lm = Replace(_lm, _lm + losses.Lm);
        _balance = Replace(_balance, _balance + losses.LoadBalancing);
        _z = Replace(_z, _z + losses.Z);
        _tokens += tokens;
        _steps++;
    }

    static Tensor Replace(Tensor old, Tensor sum)
    {
        sum.DetachFromDisposeScope();
        old.Dispose();
        return sum;
    }

    /// <summary>The interval's means over steps and ranks, speed and expert load; starts the next interval.</summary>
    public TrainingLog Take(long step, double lr, Tensor gradNorm, TrainingStep training, CheckpointStore store)
    {
        var groups = training.Groups;
        double lm = groups.MeanOverRanks(_lm).item<float>() / _steps;
        double balance = groups.MeanOverRanks(_balance).item<float>() / _steps;
        double z = groups.MeanOverRanks(_z).item<float>() / _steps;
        training.Load.SumOver(groups.World.AllReduceSum);
        double norm = gradNorm.item<float>();
        if (!double.IsFinite(lm) || !double.IsFinite(norm))
            throw FiniteCheck.Stop(double.IsFinite(lm) ? "gradient norm" : "loss", step, store);
        double tokensPerSecond = _tokens / _clock.Elapsed.TotalSeconds;
        double tflops = tokensPerSecond * flopsPerToken / 1e12;
        var log = new TrainingLog(step, lm, balance, z, lr, norm, tokensPerSecond, tflops, peakTflops > 0 ? tflops / peakTflops : null,
            training.Load.TakeSummary());
        foreach (var t in new[] { _lm, _balance, _z }) t.Dispose();
        (_lm, _balance, _z) = (Zero(device), Zero(device), Zero(device));
        _tokens = 0;
        _steps = 0;
        _clock.Restart();
        return log;
    }
}
