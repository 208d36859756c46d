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
        Assert.All(fit.Profiles, p => Assert.Null(p.QuadraticOptimalParams));
        Assert.Null(fit.Quadratic);
        Assert.NotNull(fit.BestRun);
    }
}
