namespace Flame.Scaling;

/// <summary>A 95% percentile interval (2.5th and 97.5th percentiles of the bootstrap replicates).</summary>
public sealed record Interval(double Low, double High);

/// <summary>Bootstrap intervals for every Approach-3 coefficient and the derived exponents a and b.</summary>
public sealed record BootstrapIntervals(int Samples, int Seed, int Failed,
    Interval E, Interval A, Interval Alpha, Interval B, Interval Beta, Interval ParamsExponent, Interval TokensExponent);

/// <summary>
/// Uncertainty of Approach 3 (spec §3): refit on runs resampled with replacement (seeded, so repeatable)
/// and take percentiles. Replicates usually use <see cref="StartGrid.Reduced"/> to stay fast. Each replicate is
/// held to the same rule as the fit (<see cref="ParametricFit.CheckIdentifiable"/>: distinct points, not on one
/// line); one that fails it, or does not converge, is counted in <see cref="BootstrapIntervals.Failed"/> and
/// left out of the percentiles.
/// </summary>
public static class Bootstrap
{
    public static BootstrapIntervals Run(IReadOnlyList<ScalingRun> runs, int samples, int seed, StartGrid? grid = null)
    {
        if (samples < 1) throw new UserError($"bootstrap samples must be at least 1 (got {samples})");
        grid ??= StartGrid.Reduced;
        var random = new Random(seed);
        var laws = new List<ParametricLaw>();
        int failed = 0;
        for (int s = 0; s < samples; s++)
        {
            var resample = Enumerable.Range(0, runs.Count).Select(_ => runs[random.Next(runs.Count)]).ToList();
            try { laws.Add(ParametricFit.Fit(resample, grid).Law); }
            catch (UserError) { failed++; }
        }
        if (laws.Count == 0) throw new UserError($"bootstrap: none of the {samples} replicates could be fitted");
        Interval Of(Func<ParametricLaw, double> pick)
        {
            var v = laws.Select(pick).OrderBy(x => x).ToArray();
            return new Interval(Percentile(v, 2.5), Percentile(v, 97.5));
        }
        return new BootstrapIntervals(samples, seed, failed, Of(l => l.E), Of(l => l.A), Of(l => l.Alpha), Of(l => l.B),
                                      Of(l => l.Beta), Of(l => l.ParamsExponent), Of(l => l.TokensExponent));
    }

    /// <summary>Linear interpolation between closest ranks (numpy's default) on sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percent)
    {
        double position = percent / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(position);
        int high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
    }
}
