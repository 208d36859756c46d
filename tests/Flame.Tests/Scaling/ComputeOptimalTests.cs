using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class ComputeOptimalTests
{
    [Theory]
    [InlineData(1e18)]
    [InlineData(3e19)]
    [InlineData(1e22)]
    public void ClosedFormMatchesANumericMinimum(double budget)
    {
        var law = ParametricLaw.FlameMoe;
        double Loss(double lnN) { double n = Math.Exp(lnN); return law.Loss(n, budget / (6 * n)); }
        // Golden-section search over ln N in [ln 1e3, ln 1e15]; the loss along the IsoFLOP line is unimodal.
        double lo = Math.Log(1e3), hi = Math.Log(1e15), phi = (Math.Sqrt(5) - 1) / 2;
        while (hi - lo > 1e-9)
        {
            double x1 = hi - phi * (hi - lo), x2 = lo + phi * (hi - lo);
            if (Loss(x1) < Loss(x2)) hi = x2; else lo = x1;
        }
        var best = ComputeOptimal.For(law, budget);
        Assert.Equal(Math.Exp((lo + hi) / 2) / best.Params, 1, 6);
        Assert.Equal(budget, 6 * best.Params * best.Tokens, budget * 1e-12);
        Assert.True(best.Loss <= Loss((lo + hi) / 2) + 1e-12);
    }

    [Fact]
    public void ExponentsOfThePublishedFit()
    {
        // a = 0.7155 / (0.279702 + 0.7155) = 0.71895; b = 1 - a.
        Assert.Equal(0.718950, ParametricLaw.FlameMoe.ParamsExponent, 5);
        Assert.Equal(0.281050, ParametricLaw.FlameMoe.TokensExponent, 5);
        // N_opt scales as C^a: a 10x budget multiplies N_opt by 10^a.
        double ratio = ComputeOptimal.For(ParametricLaw.FlameMoe, 1e20).Params / ComputeOptimal.For(ParametricLaw.FlameMoe, 1e19).Params;
        Assert.Equal(Math.Pow(10, 0.7189495), ratio, 5);
    }
}
