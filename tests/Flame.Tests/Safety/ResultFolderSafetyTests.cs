using Flame.Cli.Commands;
using Flame.Output;
using Flame.Tests.Data;
using Flame.Tests.Tracing;
using static Flame.Tests.Evaluation.EvalFixtures;

namespace Flame.Tests.Safety;

/// <summary>
/// The folder rule for the result folders a user names: `flame analyze --output D` and `flame eval --output D`
/// write into D only when it is new, empty or an earlier result of the same command; anything else is one line and
/// nothing changes, and --overwrite removes only the files the command writes.
/// </summary>
public class ResultFolderSafetyTests
{
    static string Traces(TempFolder dir)
    {
        var traces = dir.File("traces");
        var tokens = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        TraceFixtures.WriteSamples(Path.Combine(traces, "samples", "000.parquet"), tokens);
        foreach (var step in new long[] { 1, 2 })
            TraceFixtures.WriteLayer(TraceFixtures.LayerPath(traces, step, 2), tokens.Select(t => new[] { t, 3 + (int)step }).ToArray());
        return traces;
    }

    static (int Code, string Out, string Err) Analyze(string traces, string output, params string[] extra) =>
        CliHarness.Run([AnalyzeCommands.Create()], ["analyze", "saturation", "--traces", traces, "--experts", "8", "--no-plots", "--output", output, .. extra]);

    static string ForeignFolder(TempFolder dir, string fileName)
    {
        var folder = dir.File("mine");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "a week of notes");
        File.WriteAllText(Path.Combine(folder, fileName), "my own file of that name");
        return folder;
    }

    [Fact]
    public void AnalyzeOutputIntoAFolderFlameDidNotWriteIsRefusedAndNothingChanges()
    {
        using var dir = new TempFolder();
        var traces = Traces(dir);
        var folder = ForeignFolder(dir, "saturation.csv");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, err) = Analyze(traces, folder);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Contains($"{folder}: is not empty and was not written by Flame", err);
        Assert.Contains("--overwrite", err);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void AnalyzeOverwriteReplacesOnlyItsOwnFilesAndARerunNeedsNoFlag()
    {
        using var dir = new TempFolder();
        var traces = Traces(dir);
        var folder = ForeignFolder(dir, "saturation.csv");
        var (code, _, err) = Analyze(traces, folder, "--overwrite");
        Assert.True(code == 0, err);
        Assert.Equal("a week of notes", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.StartsWith("layer,", File.ReadAllText(Path.Combine(folder, "saturation.csv")));
        Assert.Equal("analysis", OutputMarker.Read(folder)!.Kind);
        Assert.Equal(0, Analyze(traces, folder).Code); // its own folder now: no --overwrite needed
    }

    [Fact]
    public void AFailedAnalysisLeavesNoNewOutputFolderBehind()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("empty-traces"));
        var (code, _, err) = Analyze(dir.File("empty-traces"), dir.File("new-output"));
        Assert.Equal(2, code);
        Assert.Contains("no actives/ folder", err);
        Assert.False(Directory.Exists(dir.File("new-output")));
    }

    [Fact]
    public void EvalOutputIntoAFolderFlameDidNotWriteIsRefusedBeforeScoring()
    {
        using var dir = new TempFolder();
        using (var model = UniformModel()) SaveCheckpoint(model, dir.File("run"), 40);
        var data = dir.File("tasks");
        WriteSplit(data, "winogrande", "validation", WinoGrandeRow);
        var folder = ForeignFolder(dir, "summary.json"); // a summary.json alone is not an earlier eval's folder
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, err) = CliHarness.Run([EvalCommands.Create()],
            ["eval", "--run", dir.File("run"), "--tasks", "winogrande", "--data-dir", data, "--device", "cpu", "--output", folder]);
        Assert.Equal(2, code);
        Assert.Contains($"{folder}: is not empty and was not written by Flame", err);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
        Assert.Equal("my own file of that name", File.ReadAllText(Path.Combine(folder, "summary.json")));
    }
}

/// <summary>`flame scaling plan --out SWEEP` used to write SWEEP/runs/*.toml into any folder, replacing files of the same name.</summary>
public class SweepFolderSafetyTests
{
    static (int Code, string Out, string Err) Plan(string sweep, params string[] extra) =>
        CliHarness.Run([ScalingCommands.Create()], ["scaling", "plan", "--presets", "flame-moe-38m", "--budgets", "1e18", "--json", "--out", sweep, .. extra]);

    [Fact]
    public void APlanIntoAFolderFlameDidNotWriteIsRefusedAndARePlanIsAllowed()
    {
        using var dir = new TempFolder();
        var sweep = dir.File("sweep");
        Directory.CreateDirectory(Path.Combine(sweep, "runs"));
        File.WriteAllText(Path.Combine(sweep, "runs", "flame-moe-38m-C1e18.toml"), "# my hand-tuned run\n");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, err) = Plan(sweep);
        Assert.Equal(2, code);
        Assert.Contains($"{sweep}: is not empty and was not written by Flame", err);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));

        var fresh = dir.File("fresh");
        Assert.Equal(0, Plan(fresh).Code);
        Assert.StartsWith("# IsoFLOP run: flame-moe-38m", File.ReadAllText(Path.Combine(fresh, "runs", "flame-moe-38m-C1e18.toml")));
        Assert.Equal("scaling-sweep", OutputMarker.Read(fresh)!.Kind);
        Assert.Equal(0, Plan(fresh).Code); // its own sweep: planned again in place
    }
}
