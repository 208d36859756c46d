using Flame.Model;
using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class ArchitectureMatchTests
{
    static readonly ModelConfig[] Released = new[] { "flame-moe-98m", "flame-moe-115m", "flame-moe-290m", "flame-moe-419m" }
        .Select(ModelPresets.Get).ToArray();

    [Fact]
    public void NearestInLogSpaceNotInParameters()
    {
        // N_opt = 200M between flame-moe-115m (114,475,008) and flame-moe-290m (290,390,016): 115m is nearer in
        // parameters (85.5M vs 90.4M away), 290m nearer in log space (ln 1.452 = 0.373 vs ln 1.747 = 0.558).
        var optimum = new ComputeOptimalPoint(2e19, 2e8, 2e19 / 1.2e9, 3.0);
        var match = ArchitectureMatch.Nearest(Released, optimum, ParametricLaw.FlameMoe, 2_097_152);
        Assert.Equal("flame-moe-290m", match.Preset);
        Assert.Equal(290_390_016, match.Params);
        Assert.Equal(5473, match.Iterations); // 2e19 / (6 * 290,390,016 * 2,097,152) = 5473.6
        Assert.Equal(2e19 / (6.0 * 290_390_016), match.Tokens, 1e-3);
        Assert.Equal(Math.Log(290_390_016 / 2e8), match.LogDistance, 12);
        Assert.Equal(ParametricLaw.FlameMoe.Loss(290_390_016, match.Tokens), match.Loss, 12);
    }

    [Fact]
    public void OptimumJustBelowTheGeometricMeanPicksTheSmaller()
    {
        // sqrt(114,475,008 * 290,390,016) = 182.3M: 180M goes to 115m, 185M to 290m.
        var small = ArchitectureMatch.Nearest(Released, new ComputeOptimalPoint(1e19, 1.80e8, 1e19 / 1.08e9, 3), ParametricLaw.FlameMoe, 2_097_152);
        var large = ArchitectureMatch.Nearest(Released, new ComputeOptimalPoint(1e19, 1.85e8, 1e19 / 1.11e9, 3), ParametricLaw.FlameMoe, 2_097_152);
        Assert.Equal("flame-moe-115m", small.Preset);
        Assert.Equal("flame-moe-290m", large.Preset);
    }

    [Fact]
    public void PublishedLawAt8e19PicksFlameMoe721m()
    {
        // N_opt(8e19) = 946.5M; 721,207,296 is ln 1.312 = 0.272 below it, 1,729,363,968 is 0.603 above.
        var presets = ModelPresets.All.Where(p => p.Name.StartsWith("flame-moe-")).ToArray();
        var match = ArchitectureMatch.Nearest(presets, ComputeOptimal.For(ParametricLaw.FlameMoe, 8e19), ParametricLaw.FlameMoe, 2_097_152);
        Assert.Equal("flame-moe-721m", match.Preset);
        Assert.Equal(8815, match.Iterations); // 8e19 / (6 * 721,207,296 * 2,097,152) = 8815.5
        Assert.Equal(2.8832514910980764, match.Loss, 9);
    }

    [Fact]
    public void NoCandidatesIsAUserError() =>
        Assert.Throws<UserError>(() => ArchitectureMatch.Nearest([], ComputeOptimal.For(ParametricLaw.FlameMoe, 1e19), ParametricLaw.FlameMoe, 1024));
}
