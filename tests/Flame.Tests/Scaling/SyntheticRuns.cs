using Flame.Scaling;

namespace Flame.Tests.Scaling;

/// <summary>Losses generated exactly from a known law over an IsoFLOP-like grid of (N, D).</summary>
static class SyntheticRuns
{
    public static IReadOnlyList<ScalingRun> From(ParametricLaw law)
    {
        var runs = new List<ScalingRun>();
        foreach (var c in new[] { 1e18, 3e18, 6e18, 1e19, 3e19 })
            foreach (var n in new[] { 3e7, 6e7, 1.2e8, 2.5e8, 5e8, 1e9 })
            {
                double d = c / (6 * n);
                runs.Add(new ScalingRun(c, n, d, law.Loss(n, d)));
            }
        return runs;
    }
}
