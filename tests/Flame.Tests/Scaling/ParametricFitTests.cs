using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class ParametricFitTests
{
    [Fact]
    public void RecoversFlameMoesPublishedFitFromItsOwnLosses()
    {
        var truth = ParametricLaw.FlameMoe;
        var runs = SyntheticRuns.From(truth);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var fit = ParametricFit.Fit(runs);
        Console.WriteLine($"4500 starts in {sw.Elapsed.TotalSeconds:F1}s; {fit}");
        Assert.Equal(4500, fit.Starts);
        Assert.True(fit.ConvergedNearBest >= 1);
        Assert.True(fit.Objective < 1e-9, $"objective {fit.Objective}");
        foreach (var r in runs)
            Assert.True(Math.Abs(fit.Law.Loss(r.Params, r.Tokens) / r.Loss - 1) < 1e-3);
        Assert.InRange(fit.Law.ParamsExponent, truth.ParamsExponent - 0.02, truth.ParamsExponent + 0.02);
        Assert.InRange(fit.Law.Alpha, truth.Alpha - 0.05, truth.Alpha + 0.05);
        Assert.InRange(fit.Law.Beta, truth.Beta - 0.05, truth.Beta + 0.05);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        var objective = new HuberLogObjective(SyntheticRuns.From(ParametricLaw.FlameMoe));
        double[] theta = [0.7, 4.5, 0.3, 15.2, 0.7];
        var g = new double[5];
        objective.Evaluate(theta, g);
        for (int k = 0; k < 5; k++)
        {
            var up = (double[])theta.Clone(); up[k] += 1e-6;
            var down = (double[])theta.Clone(); down[k] -= 1e-6;
            double numeric = (objective.Evaluate(up) - objective.Evaluate(down)) / 2e-6;
            Assert.True(Math.Abs(numeric - g[k]) <= 1e-6 * Math.Max(1, Math.Abs(numeric)) + 1e-9, $"d/dtheta[{k}]: {g[k]} vs {numeric}");
        }
    }

    [Fact]
    public void BootstrapIsSeededAndBracketsTheTruth()
    {
        var runs = SyntheticRuns.From(ParametricLaw.FlameMoe);
        var a = Bootstrap.Run(runs, samples: 3, seed: 7);
        var b = Bootstrap.Run(runs, samples: 3, seed: 7);
        Assert.Equal(a, b);
        Assert.True(a.Alpha.Low <= a.Alpha.High);
        Assert.InRange(ParametricLaw.FlameMoe.ParamsExponent, a.ParamsExponent.Low - 0.05, a.ParamsExponent.High + 0.05);
    }

    [Fact]
    public void PercentileInterpolatesLikeNumpy()
    {
        // numpy.percentile([1, 2, 3, 4, 5], 2.5) = 1.1; (…, 97.5) = 4.9
        Assert.Equal(1.1, Bootstrap.Percentile([1, 2, 3, 4, 5], 2.5), 12);
        Assert.Equal(4.9, Bootstrap.Percentile([1, 2, 3, 4, 5], 97.5), 12);
    }
}
