using MathNet.Numerics;

namespace Flame.Scaling;

/// <summary>One budget's IsoFLOP profile: the fitted quadratic loss = c0 + c1 ln N + c2 (ln N)^2 (null with fewer than 3 sizes) and its minimum.</summary>
/// <param name="QuadraticOptimalParams">exp(-c1 / 2c2); null when the profile has fewer than 3 sizes or opens downward.</param>
public sealed record IsoFlopProfile(double Budget, int Runs, double? C0, double? C1, double? C2,
                                    double? QuadraticOptimalParams, double? QuadraticMinimumLoss,
                                    double BestRunParams, double BestRunLoss);

/// <summary>N_opt = K * C^Exponent, fitted in log-log space.</summary>
public sealed record PowerLaw(double K, double Exponent, int Points)
{
    public double At(double flops) => K * Math.Pow(flops, Exponent);
}

/// <summary>Approach 2's answer: the profiles, the power law through their quadratic minima, and the one through their best runs.</summary>
public sealed record IsoFlopFitResult(IReadOnlyList<IsoFlopProfile> Profiles, PowerLaw? Quadratic, PowerLaw? BestRun);

/// <summary>
/// Approach 2 (spec §3; Hoffmann et al. 2022): per budget a least-squares quadratic in ln N through the
/// losses and its vertex, plus the minimum-loss run; then a power law N_opt = k C^a through those optima.
/// </summary>
public static class IsoFlopFit
{
    public static IsoFlopFitResult Fit(IReadOnlyList<ScalingRun> runs)
    {
        var profiles = runs.GroupBy(r => r.Flops).OrderBy(g => g.Key).Select(Profile).ToList();
        var quadratic = profiles.Where(p => p.QuadraticOptimalParams is not null)
                                .Select(p => (p.Budget, p.QuadraticOptimalParams!.Value)).ToList();
        var best = profiles.Select(p => (p.Budget, p.BestRunParams)).ToList();
        return new IsoFlopFitResult(profiles, FitPowerLaw(quadratic), FitPowerLaw(best));
    }

    static IsoFlopProfile Profile(IGrouping<double, ScalingRun> budget)
    {
        var runs = budget.ToList();
        var bestRun = runs.MinBy(r => r.Loss)!;
        double? c0 = null, c1 = null, c2 = null;
        double? nOpt = null, lossOpt = null;
        if (runs.Select(r => r.Params).Distinct().Count() >= 3)
        {
            var c = MathNet.Numerics.Fit.Polynomial(runs.Select(r => Math.Log(r.Params)).ToArray(), runs.Select(r => r.Loss).ToArray(), 2);
            (c0, c1, c2) = (c[0], c[1], c[2]);
            if (c[2] > 0)
            {
                double x = -c[1] / (2 * c[2]);
                nOpt = Math.Exp(x);
                lossOpt = c[0] + c[1] * x + c[2] * x * x;
            }
        }
        return new IsoFlopProfile(budget.Key, runs.Count, c0, c1, c2, nOpt, lossOpt, bestRun.Params, bestRun.Loss);
    }

    /// <summary>ln N = ln k + a ln C by least squares; null with fewer than two distinct budgets.</summary>
    public static PowerLaw? FitPowerLaw(IReadOnlyList<(double Flops, double Params)> points)
    {
        if (points.Select(p => p.Flops).Distinct().Count() < 2) return null;
        var (lnK, a) = MathNet.Numerics.Fit.Line(points.Select(p => Math.Log(p.Flops)).ToArray(), points.Select(p => Math.Log(p.Params)).ToArray());
        return new PowerLaw(Math.Exp(lnK), a, points.Count);
    }
}
