using Flame.Model;
using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class ScalingPlanTests
{
    [Fact]
    public void Flame38mAt1e18RunsTheSpecsIterations()
    {
        // Spec §1 by hand: N = 2*50304*256 + 9*4*256^2 + 2*256*1368 + 8*24*256*176 = 37,466,112;
        // 1e18 / (6 * 37,466,112 * 1024 * 2048) = 2121.2 -> 2121 iterations.
        var run = Assert.Single(ScalingPlan.Build([ModelPresets.Get("flame-moe-38m")], [1e18]));
        Assert.Equal(37_466_112, run.Params);
        Assert.Equal(2121, run.Iterations);
        Assert.Equal(1e18 / (6.0 * 37_466_112), run.Tokens, 1e-6);
        Assert.Equal("flame-moe-38m", run.Preset);
    }

    [Fact]
    public void Flame290mMatchesItsHandCount()
    {
        // 2*50304*1024 + 9*4*1024^2 + 2*1024*5472 + 8*24*1024*704 = 290,390,016; 2e19/(6N*2097152) = 5473.6
        var run = ScalingPlan.Build([ModelPresets.Get("flame-moe-290m")], [2e19], 2_097_152).Single();
        Assert.Equal(290_390_016, run.Params);
        Assert.Equal(5473, run.Iterations);
    }

    [Fact]
    public void GridIsSixteenArchitecturesAtFiveBudgets()
    {
        Assert.Equal(16, IsoFlopGrid.Architectures.Count);
        Assert.Equal([1e18, 3e18, 6e18, 1e19, 3e19], IsoFlopGrid.Budgets);
        Assert.Equal(80, ScalingPlan.Build(IsoFlopGrid.Architectures, IsoFlopGrid.Budgets).Count);
        Assert.Equal(16, IsoFlopGrid.Architectures.Select(a => a.Name).Distinct().Count());
        var l9 = IsoFlopGrid.Architectures.Single(a => a.Name == "L9-h256");
        var preset = ModelPresets.Get("flame-moe-38m");
        Assert.Equal(preset with { Name = "L9-h256", DenseLayers = l9.DenseLayers }, l9); // the list compares by reference
        Assert.Equal(preset.DenseLayers, l9.DenseLayers);
        var l6 = IsoFlopGrid.Architectures.Single(a => a.Name == "L6-h768");
        Assert.Equal((64, 6, 528, 1056, 4104, 16), (l6.Experts, l6.TopK, l6.ExpertFfn, l6.SharedExpertFfn, l6.DenseFfn, l6.Heads));
        Assert.Equal([0], l6.DenseLayers);
        foreach (var a in IsoFlopGrid.Architectures) a.Validate();
    }

    [Fact]
    public void RefusesNonsense()
    {
        Assert.Throws<UserError>(() => ScalingPlan.Build(IsoFlopGrid.Architectures, [-1.0]));
        Assert.Throws<UserError>(() => ScalingPlan.Build(IsoFlopGrid.Architectures, [1e18], 0));
    }
}
