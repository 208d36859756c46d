using System.CommandLine;
using Flame.Cli;
using Flame.Cli.Commands;
using Flame.Tests.Data;
using Flame.Tests.Tracing;

namespace Flame.Tests.Analysis;

public class AnalyzeCommandTests
{
    static int Run(params string[] args) =>
        CommandRunner.Run(new RootCommand { AnalyzeCommands.Create(), TraceCommands.Create(), ReportCommands.Create() }, args);

    [Fact]
    public void EachAnalysisCommandWritesItsTables()
    {
        using var dir = new TempFolder();
        var traces = dir.File("traces");
        var tokens = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        TraceFixtures.WriteSamples(Path.Combine(traces, "samples", "000.parquet"), tokens);
        foreach (var step in new long[] { 1, 2 })
            TraceFixtures.WriteLayer(TraceFixtures.LayerPath(traces, step, 2), tokens.Select(t => new[] { t, 3 + (int)step }).ToArray());

        Assert.Equal(0, Run("analyze", "saturation", "--traces", traces, "--experts", "8", "--no-plots", "--output", dir.File("sat")));
        Assert.True(File.Exists(dir.File("sat/saturation.csv")));
        Assert.False(File.Exists(dir.File("sat/load_balance.csv")));
        Assert.Equal(0, Run("analyze", "load-balance", "--traces", traces, "--experts", "8", "--no-plots", "--output", dir.File("lb")));
        Assert.True(File.Exists(dir.File("lb/load_balance_summary.csv")));
        Assert.Equal(0, Run("analyze", "all", "--traces", traces, "--experts", "8", "--json"));
        Assert.True(File.Exists(Path.Combine(traces, "analysis", "plots", "coactivation_layer_02.svg")));
    }

    [Fact]
    public void MissingTracesAndRunsAreOneLineErrors()
    {
        using var dir = new TempFolder();
        Assert.Equal(CommandRunner.UserErrorExitCode, Run("analyze", "all", "--traces", dir.File("nothing")));
        Assert.Equal(CommandRunner.UserErrorExitCode, Run("trace", "--run", dir.Path));
        Assert.Equal(CommandRunner.UserErrorExitCode, Run("report", "--run", dir.File("nothing")));
    }
}
