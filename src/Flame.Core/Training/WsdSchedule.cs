namespace Flame.Training;

/// <summary>
/// FLAME-MoE's warmup-stable-decay learning rate (spec §2), computed as Megatron-LM's
/// OptimizerParamScheduler does with lr_decay_style WSD and lr_wsd_decay_style exponential:
/// linear warmup from 0 over the first <see cref="WarmupSteps"/>, then constant at the peak, then over
/// the last <see cref="DecaySteps"/> lr = min + (2 * 0.5^r - 1) * (max - min), r the fraction of the
/// decay done (r = 0 gives max, r = 1 gives min).
/// The argument is the number of optimizer steps already taken, as Megatron counts it, so the very first
/// step of a run with warmup uses lr 0. Megatron counts in samples (megatron/core/optimizer_param_scheduler.py
/// get_lr; training.py: lr_warmup_steps = lr_warmup_fraction x train_iters x global_batch, a real number), so the
/// warmup is fractional in steps: 2121 iterations warm up over 21.21 steps, and a run shorter than 100
/// iterations still has lr 0 on its first step. With a constant global batch, samples / global batch gives the
/// same learning rates in steps, which is how this computes them.
/// </summary>
public sealed record WsdSchedule(long TotalSteps, double MaxLr = 3e-4, double MinLr = 3e-5,
    double WarmupFraction = 0.01, double DecayFraction = 0.1)
{
    /// <summary>FLAME-MoE: 1% of the iterations, not rounded (Megatron's lr_warmup_fraction; 21.21 for 2121).</summary>
    public double WarmupSteps => TotalSteps * WarmupFraction;

    /// <summary>FLAME-MoE: floor(iters / 10).</summary>
    public long DecaySteps => (long)Math.Floor(TotalSteps * DecayFraction);

    public double LearningRate(long completedSteps)
    {
        if (WarmupSteps > 0 && completedSteps <= WarmupSteps)
            return MaxLr * completedSteps / WarmupSteps;
        if (completedSteps > TotalSteps) return MinLr;
        long decayStart = TotalSteps - DecaySteps;
        if (DecaySteps == 0 || completedSteps <= decayStart) return MaxLr;
        double r = (double)(completedSteps - decayStart) / DecaySteps;
        return MinLr + (2 * Math.Pow(0.5, r) - 1) * (MaxLr - MinLr);
    }

    public WsdSchedule Validate()
    {
        if (TotalSteps < 1) throw new UserError($"the schedule needs at least 1 iteration (got {TotalSteps})");
        if (MaxLr <= 0 || MinLr < 0 || MinLr > MaxLr)
            throw new UserError($"learning rates must satisfy 0 <= min ({MinLr}) <= max ({MaxLr}), max > 0");
        if (WarmupFraction < 0 || DecayFraction < 0 || WarmupFraction + DecayFraction > 1)
            throw new UserError($"warmup ({WarmupFraction}) and decay ({DecayFraction}) fractions must be >= 0 and sum to at most 1");
        return this;
    }
}
