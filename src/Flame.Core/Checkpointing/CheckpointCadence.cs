namespace Flame.Checkpointing;

/// <summary>
/// When checkpoints, or validation evaluations, happen: every <see cref="Interval"/> steps and at the final one,
/// as Megatron-LM's --save-interval and --eval-interval (plus its end-of-training save and evaluation) do. The release recipes give
/// the original's intervals (212 for 2121 iterations, ..., spec §7); otherwise the interval is
/// floor((iterations - 1) / count), which gives exactly `count` evenly spaced checkpoints plus the final one
/// whenever iterations exceed count^2 (2121 iterations, count 10: 212, 424, ..., 2120 and 2121, 11 in all,
/// as FLAME-MoE's released repositories hold), and never fewer than `count` plus the final one otherwise.
/// </summary>
public readonly record struct CheckpointCadence(long Iterations, long Interval)
{
    /// <param name="explicitInterval">a save interval; 0 derives it from <paramref name="count"/>.</param>
    public static CheckpointCadence For(long iterations, int count, long explicitInterval) =>
        new(iterations, explicitInterval > 0 ? explicitInterval : Math.Max(1, (iterations - 1) / Math.Max(1, count)));

    public bool IsDue(long completedSteps) =>
        completedSteps == Iterations || (completedSteps > 0 && completedSteps % Interval == 0);

    /// <summary>Every due step in order, the final one last.</summary>
    public IEnumerable<long> Steps()
    {
        for (long s = Interval; s < Iterations; s += Interval) yield return s;
        yield return Iterations;
    }

    /// <summary>
    /// Which validation evaluation (0-based) a due step's is, so evaluation k reads the k-th slice of the
    /// validation samples and a resumed run continues where the interrupted one was.
    /// </summary>
    public long EvaluationIndex(long step) =>
        step == Iterations ? (Iterations - 1) / Interval : step / Interval - 1;

    /// <summary>
    /// Validation evaluations Megatron-LM sizes its validation dataset for
    /// (training.py get_train_valid_test_num_samples: train_iters // eval_interval + 1).
    /// </summary>
    public long MegatronEvaluations => Iterations / Interval + 1;
}
