using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class IsoFlopFitTests
{
    [Fact]
    public void RecoversVertexOfExactQuadraticsAndTheirPowerLaw()
    {
        // Per budget: loss = 3 + 0.1 (ln N - ln N*)^2 with N* = 0.2 * C^0.5 exactly, so the vertex is N*,
        // the minimum loss 3, and the power law through the vertices k = 0.2, a = 0.5.
        var runs = new List<ScalingRun>();
        foreach (var c in new[] { 1e18, 3e18, 1e19, 3e19 })
        {
            double nStar = 0.2 * Math.Sqrt(c);
            foreach (var f in new[] { 0.3, 0.6, 1.1, 2.0, 4.0 })
            {
                double n = nStar * f, x = Math.Log(f);
                runs.Add(new ScalingRun(c, n, c / (6 * n), 3 + 0.1 * x * x));
            }
        }
        var fit = IsoFlopFit.Fit(runs);
        Assert.Equal(4, fit.Profiles.Count);
        foreach (var p in fit.Profiles)
        {
            Assert.Equal(1, p.QuadraticOptimalParams!.Value / (0.2 * Math.Sqrt(p.Budget)), 6);
            Assert.Equal(3, p.QuadraticMinimumLoss!.Value, 8);
            Assert.Equal(1.1 * 0.2 * Math.Sqrt(p.Budget), p.BestRunParams, 1e-3 * p.BestRunParams);
        }
        Assert.Equal(0.5, fit.Quadratic!.Exponent, 8);
        Assert.Equal(0.2, fit.Quadratic.K, 6);
        Assert.Equal(0.5, fit.BestRun!.Exponent, 8); // best runs sit at 1.1 N*: same exponent, k = 0.22
        Assert.Equal(0.22, fit.BestRun.K, 6);
    }

    [Fact]
    public void PowerLawThroughExactPoints()
    {
        var law = IsoFlopFit.FitPowerLaw([(1e18, 3 * Math.Pow(1e18, 0.45)), (1e20, 3 * Math.Pow(1e20, 0.45)), (1e21, 3 * Math.Pow(1e21, 0.45))])!;
        Assert.Equal(0.45, law.Exponent, 10);
        Assert.Equal(3, law.K, 6);
        Assert.Null(IsoFlopFit.FitPowerLaw([(1e18, 5.0)]));
    }

    [Fact]
    public void TooFewSizesOrConcaveProfileHasNoQuadraticMinimum()
    {
        var runs = new List<ScalingRun>
        {
            new(1e18, 1e7, 1e10, 4), new(1e18, 1e8, 1e9, 3.5),                          // only two sizes
            new(1e19, 1e7, 1e11, 3), new(1e19, 1e8, 1e10, 3.5), new(1e19, 1e9, 1e9, 3), // opens downward
        };
        var fit = IsoFlopFit.Fit(runs);
        Assert.Equal([new LeftOutBudget(1e18, 2, 2)], fit.LeftOut);     // two sizes: left out, and said so
        Assert.Equal(1e19, fit.Profiles.Single().Budget);
        Assert.Null(fit.Profiles.Single().QuadraticOptimalParams);
        Assert.Null(fit.Quadratic);
        Assert.Null(fit.BestRun);                                         // one budget left: no power law through it
    }

    static List<ScalingRun> ExactProfiles(Func<int, double> jitter)
    {
        var runs = new List<ScalingRun>();
        int k = 0;
        foreach (var c in new[] { 1e18, 3e18, 1e19, 3e19 })
        {
            double nStar = 0.2 * Math.Sqrt(c);
            foreach (var f in new[] { 0.3, 0.6, 1.1, 2.0, 4.0 })
            {
                double n = nStar * f, x = Math.Log(f);
                runs.Add(new ScalingRun(c * jitter(k++), n, c / (6 * n), 3 + 0.1 * x * x));
            }
        }
        return runs;
    }

    [Fact]
    public void FlopsReadOffAPlotAreGroupedIntoBudgetsWithinTheTolerance()
    {
        // Each run's FLOPs off by up to 2% (as when read off a figure): no two are equal.
        double[] pattern = [1.0, 1.02, 0.985, 1.01, 0.995];
        var runs = ExactProfiles(k => pattern[k % 5]);
        Assert.Equal(20, runs.Select(r => r.Flops).Distinct().Count());
        var fit = IsoFlopFit.Fit(runs);                                   // default 5%
        Assert.Equal(0.05, fit.BudgetTolerance);
        Assert.Equal(4, fit.Profiles.Count);
        Assert.Empty(fit.LeftOut);
        Assert.All(fit.Profiles, p => Assert.Equal(5, p.Members.Count));
        // The budget is the members' geometric mean: c * (1 * 1.02 * 0.985 * 1.01 * 0.995)^(1/5).
        double mean = Math.Pow(pattern.Aggregate(1.0, (a, b) => a * b), 0.2);
        Assert.Equal([1e18 * mean, 3e18 * mean, 1e19 * mean, 3e19 * mean], fit.Profiles.Select(p => p.Budget), (a, b) => Math.Abs(a / b - 1) < 1e-12);
        Assert.Equal(0.5, fit.Quadratic!.Exponent, 8);

        // Grouping by equality, as before, makes one budget per run: every budget is left out and nothing is fitted.
        var exact = IsoFlopFit.Fit(runs, budgetTolerance: 0);
        Assert.False(exact.Fitted);
        Assert.Equal(20, exact.LeftOut.Count);
        Assert.All(exact.LeftOut, b => Assert.Equal((1, 1), (b.Runs, b.Sizes)));
        Assert.Null(exact.Quadratic);
        Assert.Null(exact.BestRun);
    }

    [Fact]
    public void AGroupSpansTheToleranceFromItsSmallestRun()
    {
        ScalingRun At(double c, double n) => new(c, n, c / (6 * n), 3);
        // 1.00, 1.04, 1.06 (within 5% of 1.04 but not of 1.00), 1.09: groups {1.00, 1.04}, {1.06, 1.09}.
        var groups = IsoFlopFit.GroupBudgets([At(1.09e19, 1), At(1e19, 1), At(1.06e19, 1), At(1.04e19, 1)], 0.05);
        Assert.Equal([[1e19, 1.04e19], [1.06e19, 1.09e19]], groups.Select(g => g.Runs.Select(r => r.Flops).ToArray()));
        Assert.Equal(1e19, IsoFlopFit.GroupBudgets([At(1e19, 1), At(1e19, 2)], 0.05).Single().Budget);   // equal FLOPs: that value exactly
        Assert.Throws<UserError>(() => IsoFlopFit.GroupBudgets([At(1e19, 1)], -0.1));
        Assert.Throws<UserError>(() => IsoFlopFit.GroupBudgets([At(1e19, 1)], 1));
    }
}
