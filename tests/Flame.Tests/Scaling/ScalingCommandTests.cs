using System.CommandLine;
using System.Text.Json;
using Flame.Cli;
using Flame.Cli.Commands;
using Flame.Tests.Data;

namespace Flame.Tests.Scaling;

/// <summary>`flame scaling` end to end: JSON shapes and a user's mistake as exit code 2.</summary>
public class ScalingCommandTests
{
    static (int Code, string Out) Run(params string[] args)
    {
        var (code, output, _) = CliHarness.Run([ScalingCommands.Create()], args);
        return (code, output);
    }

    [Fact]
    public void PlanJsonListsPresetBudgetParamsTokensIterations()
    {
        var (code, output) = Run("scaling", "plan", "--presets", "flame-moe-38m,flame-moe-290m", "--budgets", "1e18,2e19",
                                 "--tokens-per-step", "2097152", "--json");
        Assert.Equal(0, code);
        var runs = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(4, runs.Count);
        var first = runs[0];
        Assert.Equal("flame-moe-38m", first.GetProperty("preset").GetString());
        Assert.Equal(1e18, first.GetProperty("budget").GetDouble());
        Assert.Equal(37_466_112, first.GetProperty("params").GetInt64());
        Assert.Equal(2121, first.GetProperty("iterations").GetInt64());
        Assert.True(first.GetProperty("tokens").GetDouble() > 0);
    }

    [Fact]
    public void PlanDefaultsToTheGrid()
    {
        var (code, output) = Run("scaling", "plan", "--json");
        Assert.Equal(0, code);
        var runs = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(80, runs.Count);
        Assert.Contains(runs, r => r.GetProperty("preset").GetString() == "L9-h256");
    }

    [Fact]
    public void FitJsonHasBothApproachesAndTheBootstrap()
    {
        using var dir = new TempFolder();
        var csv = dir.File("runs.csv");
        File.WriteAllLines(csv, ["flops,params,tokens,loss,name", ..SyntheticRuns.From(Flame.Scaling.ParametricLaw.FlameMoe)
            .Select((r, i) => FormattableString.Invariant($"{r.Flops:R},{r.Params:R},{r.Tokens:R},{r.Loss:R},run{i}"))]);
        var (code, output) = Run("scaling", "fit", "--input", csv, "--json", "--bootstrap", "2", "--seed", "3");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(output).RootElement;
        var a3 = root.GetProperty("approach3");
        Assert.Equal(0.279702, a3.GetProperty("alpha").GetDouble(), 3);
        Assert.Equal(2.241716, a3.GetProperty("E").GetDouble(), 3);
        foreach (var name in new[] { "A", "B", "beta", "objective", "converged" }) Assert.True(a3.TryGetProperty(name, out _), name);
        Assert.Equal(5, root.GetProperty("approach2").GetProperty("profiles").GetArrayLength());
        Assert.True(root.GetProperty("bootstrap").GetProperty("alpha").TryGetProperty("low", out _));
    }

    [Fact]
    public void MistakesExitWithTwo()
    {
        using var dir = new TempFolder();
        Assert.Equal(2, Run("scaling", "plan", "--presets", "no-such-model").Code);
        Assert.Equal(2, Run("scaling", "plan", "--budgets", "lots").Code);
        Assert.Equal(2, Run("scaling", "plan", "--grid", "chinchilla").Code);
        Assert.Equal(2, Run("scaling", "fit", "--input", dir.File("missing.csv")).Code);
        File.WriteAllLines(dir.File("bad.csv"), ["flops,params,loss", "1e18,1e8,x"]);
        Assert.Equal(2, Run("scaling", "fit", "--input", dir.File("bad.csv")).Code);
    }

    [Fact]
    public void OptimalJsonForThePublishedLaw()
    {
        var (code, output) = Run("scaling", "optimal", "--law", "flame-moe-2025", "--budgets", "2e19,8e19", "--json");
        Assert.Equal(0, code);
        var rows = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(2e19, rows[0].GetProperty("budget").GetDouble());
        Assert.Equal(1, rows[0].GetProperty("n_opt").GetDouble() / 349_342_693.86376005, 9);   // hand values: ComputeOptimalTests
        Assert.Equal(1, rows[1].GetProperty("d_opt").GetDouble() / 14_087_577_883.996353, 9);
        Assert.Equal(2.878717569966458, rows[1].GetProperty("loss").GetDouble(), 9);
        Assert.Equal(1, rows[1].GetProperty("n_opt_numeric").GetDouble() / rows[1].GetProperty("n_opt").GetDouble(), 6);
        Assert.False(rows[0].TryGetProperty("match", out _));
    }

    [Fact]
    public void OptimalMatchesAnArchitectureAndItsIterations()
    {
        var (code, output) = Run("scaling", "optimal", "--law", "flame-moe-2025", "--budgets", "8e19", "--candidates", "released",
                                 "--tokens-per-step", "2097152", "--json");
        Assert.Equal(0, code);
        var match = JsonDocument.Parse(output).RootElement[0].GetProperty("match");
        Assert.Equal("flame-moe-721m", match.GetProperty("preset").GetString());
        Assert.Equal(721_207_296, match.GetProperty("params").GetInt64());
        Assert.Equal(8815, match.GetProperty("iterations").GetInt64());
    }

    [Fact]
    public void OptimalFromAFittedCsvRecoversThePublishedOptimum()
    {
        using var dir = new TempFolder();
        var csv = WriteRuns(dir);
        var (code, output) = Run("scaling", "optimal", "--fit", csv, "--budgets", "2e19", "--json");
        Assert.Equal(0, code);
        // The runs are the published law's own losses, so the refitted law's optimum is the published one, closely.
        Assert.InRange(JsonDocument.Parse(output).RootElement[0].GetProperty("n_opt").GetDouble() / 349_342_693.86, 0.95, 1.05);
    }

    [Fact]
    public void DownstreamJsonPerTaskWithPredictionsAtLossesAndBudgets()
    {
        using var dir = new TempFolder();
        var csv = dir.File("eval.csv");
        var truth = new Flame.Scaling.AccuracyCurve(0.25, 0.8, 6, 3.2);
        File.WriteAllLines(csv, ["task,loss,accuracy", ..Enumerable.Range(0, 8).Select(i => 2.6 + 0.2 * i)
            .SelectMany(l => new[] { FormattableString.Invariant($"hellaswag,{l:R},{truth.Accuracy(l):R}"),
                                     FormattableString.Invariant($"piqa,{l:R},{(truth with { Floor = 0.5 }).Accuracy(l):R}") })]);
        var (code, output) = Run("scaling", "downstream", "--input", csv, "--predict-loss", "3.0", "--budgets", "8e19",
                                 "--law", "flame-moe-2025", "--json");
        Assert.Equal(0, code);
        var tasks = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(["hellaswag", "piqa"], tasks.Select(t => t.GetProperty("task").GetString()));
        Assert.Equal(0.5, tasks[1].GetProperty("floor").GetDouble(), 5);
        Assert.Equal(6, tasks[0].GetProperty("steepness").GetDouble(), 4);
        var predictions = tasks[0].GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(truth.Accuracy(3.0), predictions[0].GetProperty("accuracy").GetDouble(), 5);
        Assert.Equal(JsonValueKind.Null, predictions[0].GetProperty("budget").ValueKind);
        Assert.Equal(8e19, predictions[1].GetProperty("budget").GetDouble());
        Assert.Equal(2.878717569966458, predictions[1].GetProperty("loss").GetDouble(), 9);
        Assert.Equal(truth.Accuracy(2.878717569966458), predictions[1].GetProperty("accuracy").GetDouble(), 5);
        Assert.False(predictions[1].GetProperty("extrapolated").GetBoolean()); // 2.88 lies within 2.6 .. 4.0
    }

    [Fact]
    public void FitPlotsLandBesideTheCsvWhenNoFolderIsGiven()
    {
        using var dir = new TempFolder();
        var csv = WriteRuns(dir);
        var (code, output) = Run("scaling", "fit", "--input", csv, "--plots", "--json");
        Assert.Equal(0, code);
        JsonDocument.Parse(output); // stdout stays pure JSON while figures are written
        Assert.Equal(["isoflop-curves.png", "isoflop-curves.svg", "loss-contours.png", "loss-contours.svg",
                      "optimal-params.png", "optimal-params.svg", "runs.csv"], dir.Entries());
    }

    [Fact]
    public void ASweepTooSmallForApproach3StillGetsApproach2AndItsFigures()
    {
        using var dir = new TempFolder();
        var csv = dir.File("runs.csv");
        // One budget, three sizes: a parabola in log N, but 3 runs cannot fit Approach 3's 5 coefficients.
        File.WriteAllLines(csv, ["flops,params,loss", "1e18,2e7,3.40", "1e18,6e7,3.25", "1e18,2e8,3.38"]);
        var (code, output) = Run("scaling", "fit", "--input", csv, "--plots", "--json");
        Assert.Equal(0, code);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(JsonValueKind.Null, json.GetProperty("approach3").ValueKind);
        Assert.Contains("at least 5 distinct (N, D) points (got 3 from 3 runs)", json.GetProperty("approach3_error").GetString());
        Assert.Equal(1, json.GetProperty("approach2").GetProperty("profiles").GetArrayLength());
        Assert.Equal(["isoflop-curves.png", "isoflop-curves.svg", "optimal-params.png", "optimal-params.svg", "runs.csv"], dir.Entries());
    }

    [Fact]
    public void FitRefusesInOneLineWhenNothingCanBeFitted()
    {
        using var dir = new TempFolder();
        // Four runs at four FLOP budgets 20% apart: every budget has one size, and four points cannot fit five coefficients.
        var csv = dir.File("runs.csv");
        File.WriteAllLines(csv, ["flops,params,loss", "1e18,2e7,3.40", "1.2e18,6e7,3.25", "1.44e18,2e8,3.38", "1.73e18,4e8,3.5"]);
        var (code, output, err) = CliHarness.Run([ScalingCommands.Create()], ["scaling", "fit", "--input", csv, "--json"]);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains("nothing could be fitted", err);
        Assert.Contains("none of the 4 budgets (FLOPs grouped within 5%; --budget-tolerance)", err);
        // Six identical rows: one point, one budget of one size.
        var same = dir.File("same.csv");
        File.WriteAllLines(same, ["flops,params,loss", .. Enumerable.Repeat("1e19,1e8,3.1", 6)]);
        var (sameCode, _, sameErr) = CliHarness.Run([ScalingCommands.Create()], ["scaling", "fit", "--input", same]);
        Assert.Equal(2, sameCode);
        Assert.Contains("(got 1 from 6 runs)", sameErr);
        // A wider tolerance groups the four into one budget with a profile: fitted, exit 0.
        Assert.Equal(0, Run("scaling", "fit", "--input", csv, "--budget-tolerance", "0.8", "--json").Code);
        Assert.Equal(2, Run("scaling", "fit", "--input", csv, "--budget-tolerance", "-1").Code);
    }

    [Fact]
    public void ChinchillasPublishedRunsFitWithBudgetsGroupedAndTheRestSaid()
    {
        // FLOPs read off Chinchilla's figure: no two runs share a value exactly. The first 80 of the 245 keep the test quick.
        using var dir = new TempFolder();
        var csv = dir.File("chinchilla-80.csv");
        File.WriteAllLines(csv, File.ReadLines(ParametricFitTests.ChinchillaCsv).Take(81));
        var (code, output) = Run("scaling", "fit", "--input", csv, "--json");
        Assert.Equal(0, code);
        var root = JsonDocument.Parse(output).RootElement;
        Assert.Equal(80, root.GetProperty("runs").GetInt32());
        var a2 = root.GetProperty("approach2");
        Assert.Equal(0.05, a2.GetProperty("budget_tolerance").GetDouble());
        int grouped = a2.GetProperty("profiles").EnumerateArray().Sum(p => p.GetProperty("runs").GetInt32());
        int leftOut = a2.GetProperty("left_out").EnumerateArray().Sum(b => b.GetProperty("runs").GetInt32());
        Assert.Equal(80, grouped + leftOut);                                    // every run is in a profile or reported
        Assert.True(a2.GetProperty("profiles").GetArrayLength() > 0);
        Assert.All(a2.GetProperty("left_out").EnumerateArray(), b => Assert.True(b.GetProperty("sizes").GetInt32() < 3));
        Assert.NotEqual(JsonValueKind.Null, root.GetProperty("approach3").ValueKind);
    }

    [Fact]
    public void OptimalAndDownstreamMistakesExitWithTwo()
    {
        using var dir = new TempFolder();
        Assert.Equal(2, Run("scaling", "optimal", "--budgets", "1e19").Code);                                            // no law
        Assert.Equal(2, Run("scaling", "optimal", "--law", "flame-moe-2025", "--fit", "x.csv", "--budgets", "1e19").Code); // both
        Assert.Equal(2, Run("scaling", "optimal", "--law", "chinchilla", "--budgets", "1e19").Code);
        Assert.Equal(2, Run("scaling", "optimal", "--law", "flame-moe-2025", "--budgets", "1e19", "--candidates", "nope").Code);
        File.WriteAllLines(dir.File("eval.csv"), ["loss,accuracy", "3.0,0.4", "3.1,0.38"]);
        Assert.Equal(2, Run("scaling", "downstream", "--input", dir.File("eval.csv")).Code);                               // 2 points
        Assert.Equal(2, Run("scaling", "downstream", "--input", dir.File("eval.csv"), "--predict-loss", "abc").Code);
        Assert.Equal(2, Run("scaling", "downstream", "--input", dir.File("eval.csv"), "--law", "flame-moe-2025").Code);   // law without budgets
    }

    static string WriteRuns(TempFolder dir)
    {
        var csv = dir.File("runs.csv");
        File.WriteAllLines(csv, ["flops,params,tokens,loss", ..SyntheticRuns.From(Flame.Scaling.ParametricLaw.FlameMoe)
            .Select(r => FormattableString.Invariant($"{r.Flops:R},{r.Params:R},{r.Tokens:R},{r.Loss:R}"))]);
        return csv;
    }
}
