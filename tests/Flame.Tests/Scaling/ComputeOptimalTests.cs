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
        Assert.Equal(1, Math.Exp((lo + hi) / 2) / best.Params, 6);
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

    [Theory]
    [InlineData(1e18)]
    [InlineData(2e19)]
    [InlineData(8e19)]
    [InlineData(1e24)]
    public void NumericSearchAlongTheIsoFlopLineAgreesWithTheClosedForm(double budget)
    {
        var closed = ComputeOptimal.For(ParametricLaw.FlameMoe, budget);
        var numeric = ComputeOptimal.Numeric(ParametricLaw.FlameMoe, budget);
        Assert.Equal(1, numeric.Params / closed.Params, 6);
        Assert.Equal(1, numeric.Tokens / closed.Tokens, 6);
        Assert.Equal(closed.Loss, numeric.Loss, 10);
        Assert.Equal(budget, 6 * numeric.Params * numeric.Tokens, budget * 1e-12);
    }

    [Fact]
    public void NumericAgreesForALawUnlikeFlameMoes()
    {
        // alpha > beta puts the optimum on the data side (a < 0.5): the search must not lean on FLAME-MoE's shape.
        var law = new ParametricLaw(1.7, 400, 0.34, 410, 0.28);
        var closed = ComputeOptimal.For(law, 1e21);
        Assert.InRange(law.ParamsExponent, 0.4, 0.5);
        Assert.Equal(1, ComputeOptimal.Numeric(law, 1e21).Params / closed.Params, 6);
    }

    [Theory]
    // By hand (python3, the spec's coefficients): G = (alpha A / (beta B))^(1/(alpha+beta)), N = G (C/6)^(beta/(alpha+beta)),
    // D = C/(6N), L = E + A/N^alpha + B/D^beta.
    [InlineData(2e19, 349_342_693.86376005, 9_541_729_058.267633, 3.083517549563623)]
    [InlineData(8e19, 946_460_310.1488546, 14_087_577_883.996353, 2.878717569966458)]
    public void PublishedLawsOptimumMatchesTheHandComputation(double budget, double n, double d, double loss)
    {
        var best = ComputeOptimal.For(PublishedLaws.Get("flame-moe-2025"), budget);
        Assert.Equal(1, best.Params / n, 9);
        Assert.Equal(1, best.Tokens / d, 9);
        Assert.Equal(loss, best.Loss, 9);
    }

    [Fact]
    public void LawsWithoutAnOptimumAndUnknownNamesAreUserErrors()
    {
        Assert.Throws<UserError>(() => ComputeOptimal.For(ParametricLaw.FlameMoe with { Alpha = 0 }, 1e19));
        Assert.Throws<UserError>(() => ComputeOptimal.Numeric(ParametricLaw.FlameMoe with { Beta = -0.1 }, 1e19));
        Assert.Throws<UserError>(() => ComputeOptimal.For(ParametricLaw.FlameMoe, -1));
        Assert.Contains("flame-moe-2025", Assert.Throws<UserError>(() => PublishedLaws.Get("chinchilla")).Message);
    }
}
