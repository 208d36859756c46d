using System.Text.Json.Serialization;

namespace Flame.Scaling;

/// <summary>One budget's IsoFLOP profile: the fitted quadratic loss = c0 + c1 ln N + c2 (ln N)^2 and its minimum.</summary>
/// <param name="Budget">the budget's FLOPs: the runs' own value when they agree exactly, else their geometric mean.</param>
/// <param name="QuadraticOptimalParams">exp(-c1 / 2c2); null when the profile opens downward.</param>
public sealed record IsoFlopProfile(double Budget, int Runs, double? C0, double? C1, double? C2,
                                    double? QuadraticOptimalParams, double? QuadraticMinimumLoss,
                                    double BestRunParams, double BestRunLoss)
{
    /// <summary>The runs grouped into this budget (within the budget tolerance).</summary>
    [JsonIgnore]
    public IReadOnlyList<ScalingRun> Members { get; init; } = [];
}

/// <summary>A budget left out of Approach 2: fewer than <see cref="IsoFlopFit.MinimumSizes"/> model sizes, so no profile has a minimum to find.</summary>
public sealed record LeftOutBudget(double Budget, int Runs, int Sizes);

/// <summary>N_opt = K * C^Exponent, fitted in log-log space.</summary>
public sealed record PowerLaw(double K, double Exponent, int Points)
{
    public double At(double flops) => K * Math.Pow(flops, Exponent);
}

/// <summary>
/// Approach 2's answer: the budgets' profiles, the power law through their quadratic minima and the one through
/// their best runs, the relative tolerance that grouped runs into budgets, and the budgets left out.
/// </summary>
public sealed record IsoFlopFitResult(IReadOnlyList<IsoFlopProfile> Profiles, PowerLaw? Quadratic, PowerLaw? BestRun,
                                      double BudgetTolerance, IReadOnlyList<LeftOutBudget> LeftOut)
{
    /// <summary>Whether anything was fitted: at least one budget with a profile.</summary>
    [JsonIgnore]
    public bool Fitted => Profiles.Count > 0;
}

/// <summary>
/// Approach 2 (spec §3; Hoffmann et al. 2022): runs are grouped into budgets, per budget a least-squares quadratic
/// in ln N through the losses and its vertex, plus the minimum-loss run; then a power law N_opt = k C^a through
/// those optima. Runs whose FLOPs were read off a plot or rounded are never exactly equal, so budgets are grouped
/// within a relative tolerance (default 5%) instead of by equality, and a budget with fewer than three model
/// sizes is left out (and reported): one or two runs have no minimum, and counting each as its budget's optimum
/// would fit a power law to the runs themselves.
/// </summary>
public static class IsoFlopFit
{
    /// <summary>Runs whose FLOPs are within 5% of the smallest of their group share a budget.</summary>
    public const double DefaultBudgetTolerance = 0.05;
    public const int MinimumSizes = 3;

    public static IsoFlopFitResult Fit(IReadOnlyList<ScalingRun> runs, double budgetTolerance = DefaultBudgetTolerance)
    {
        var groups = GroupBudgets(runs, budgetTolerance);
        var usable = groups.Where(g => Sizes(g.Runs) >= MinimumSizes).ToList();
        var leftOut = groups.Where(g => Sizes(g.Runs) < MinimumSizes).Select(g => new LeftOutBudget(g.Budget, g.Runs.Count, Sizes(g.Runs))).ToList();
        var profiles = usable.Select(g => Profile(g.Budget, g.Runs)).ToList();
        var quadratic = profiles.Where(p => p.QuadraticOptimalParams is not null)
                                .Select(p => (p.Budget, p.QuadraticOptimalParams!.Value)).ToList();
        var best = profiles.Select(p => (p.Budget, p.BestRunParams)).ToList();
        return new IsoFlopFitResult(profiles, FitPowerLaw(quadratic), FitPowerLaw(best), budgetTolerance, leftOut);
    }

    /// <summary>
    /// Budgets in increasing order: runs sorted by FLOPs, each group opened by its smallest run and holding every
    /// run up to (1 + tolerance) times it. Tolerance 0 groups equal FLOPs only.
    /// </summary>
    public static IReadOnlyList<(double Budget, IReadOnlyList<ScalingRun> Runs)> GroupBudgets(IReadOnlyList<ScalingRun> runs, double tolerance)
    {
        if (!(tolerance >= 0 && tolerance < 1))
            throw new UserError($"the budget tolerance is a fraction of the FLOPs, 0 or more and below 1 (got {tolerance}); e.g. 0.05 for 5%");
        var groups = new List<(double, IReadOnlyList<ScalingRun>)>();
        var current = new List<ScalingRun>();
        foreach (var run in runs.OrderBy(r => r.Flops))
        {
            if (current.Count > 0 && run.Flops > current[0].Flops * (1 + tolerance))
            {
                groups.Add((BudgetOf(current), current));
                current = [];
            }
            current.Add(run);
        }
        if (current.Count > 0) groups.Add((BudgetOf(current), current));
        return groups;
    }

    static double BudgetOf(List<ScalingRun> group) =>
        group.All(r => r.Flops == group[0].Flops) ? group[0].Flops : Math.Exp(group.Average(r => Math.Log(r.Flops)));

    static int Sizes(IReadOnlyList<ScalingRun> runs) => runs.Select(r => r.Params).Distinct().Count();

    static IsoFlopProfile Profile(double budget, IReadOnlyList<ScalingRun> runs)
    {
        var bestRun = runs.MinBy(r => r.Loss)!;
        var c = MathNet.Numerics.Fit.Polynomial(runs.Select(r => Math.Log(r.Params)).ToArray(), runs.Select(r => r.Loss).ToArray(), 2);
        double? nOpt = null, lossOpt = null;
        if (c[2] > 0)
        {
            double x = -c[1] / (2 * c[2]);
            nOpt = Math.Exp(x);
            lossOpt = c[0] + c[1] * x + c[2] * x * x;
        }
        return new IsoFlopProfile(budget, runs.Count, c[0], c[1], c[2], nOpt, lossOpt, bestRun.Params, bestRun.Loss) { Members = runs };
    }

    /// <summary>ln N = ln k + a ln C by least squares; null with fewer than two distinct budgets.</summary>
    public static PowerLaw? FitPowerLaw(IReadOnlyList<(double Flops, double Params)> points)
    {
        if (points.Select(p => p.Flops).Distinct().Count() < 2) return null;
        var (lnK, a) = MathNet.Numerics.Fit.Line(points.Select(p => Math.Log(p.Flops)).ToArray(), points.Select(p => Math.Log(p.Params)).ToArray());
        return new PowerLaw(Math.Exp(lnK), a, points.Count);
    }
}
