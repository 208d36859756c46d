using Flame.Scaling;
using Flame.Tests.Data;

namespace Flame.Tests.Scaling;

/// <summary>`ScalingFitWorkflow.Run` is the fits it composes, on the same CSV: nothing added, nothing lost.</summary>
public class ScalingFitWorkflowTests
{
    [Fact]
    public void TheWorkflowGivesTheFitsItComposesAndWritesTheFiguresBesideTheCsv()
    {
        using var dir = new TempFolder();
        var csv = dir.File("runs.csv");
        File.WriteAllLines(csv, ["flops,params,tokens,loss", ..SyntheticRuns.From(ParametricLaw.FlameMoe)
            .Select(r => FormattableString.Invariant($"{r.Flops:R},{r.Params:R},{r.Tokens:R},{r.Loss:R}"))]);
        var fit = ScalingFitWorkflow.Run(new ScalingFitOptions(csv) { Bootstrap = 2, Seed = 3, Plots = true });

        var runs = ScalingResultsCsv.Read(csv);
        Assert.Equal(runs.Select(r => (r.Flops, r.Params, r.Tokens, r.Loss)), fit.Runs.Select(r => (r.Flops, r.Params, r.Tokens, r.Loss)));
        var approach2 = IsoFlopFit.Fit(runs);
        Assert.Equal(approach2.Profiles.Count, fit.Approach2.Profiles.Count);
        Assert.Equal(approach2.Quadratic, fit.Approach2.Quadratic);
        Assert.Equal(ParametricFit.Fit(runs).Law, fit.Approach3!.Law);
        Assert.Null(fit.Approach3Error);
        var boot = Bootstrap.Run(runs, 2, 3);
        Assert.Equal(boot.Alpha, fit.Bootstrap!.Alpha);
        Assert.Equal(boot.Samples, fit.Bootstrap.Samples);
        Assert.Equal(6, fit.Plots.Count);
        Assert.All(fit.Plots, f => Assert.Equal(dir.Path, Path.GetDirectoryName(f)));
        Assert.All(fit.Plots, f => Assert.True(new FileInfo(f).Length > 0, f));
    }

    [Fact]
    public void NoBootstrapAndNoPlotsUnlessAsked()
    {
        using var dir = new TempFolder();
        var csv = dir.File("runs.csv");
        File.WriteAllLines(csv, ["flops,params,loss", "1e18,2e7,3.40", "1e18,6e7,3.25", "1e18,2e8,3.38"]);
        var fit = ScalingFitWorkflow.Run(new ScalingFitOptions(csv) { Bootstrap = 5 });
        Assert.True(fit.Approach2.Fitted);
        Assert.Null(fit.Approach3); // three runs cannot fit five coefficients, so nothing to bootstrap either
        Assert.Contains("at least 5 distinct (N, D) points", fit.Approach3Error);
        Assert.Null(fit.Bootstrap);
        Assert.Empty(fit.Plots);
        Assert.Equal(["runs.csv"], dir.Entries());
        Assert.Throws<UserError>(() => ScalingFitWorkflow.Run(new ScalingFitOptions(csv) { Bootstrap = -1 }));
    }
}
