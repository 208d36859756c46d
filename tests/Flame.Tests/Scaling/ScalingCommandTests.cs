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
        var root = new RootCommand { ScalingCommands.Create() };
        var saved = Console.Out;
        var writer = new StringWriter();
        Console.SetOut(writer);
        try { return (CommandRunner.Run(root, args), writer.ToString()); }
        finally { Console.SetOut(saved); }
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
}
