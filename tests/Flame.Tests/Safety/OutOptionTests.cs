using Flame.Cli.Commands;
using Flame.Tests.Data;
using Flame.Tests.Tracing;

namespace Flame.Tests.Safety;

/// <summary>
/// `--out` names what a command writes in every command; `--output`, the other spelling some commands took, is a
/// hidden alias that writes the same thing. Messages name the spelling the user typed.
/// </summary>
public class OutOptionTests
{
    static (int Code, string Out, string Err) Flame(params string[] args) =>
        CliHarness.Run([DataCommands.Create(), TokenizerCommands.Create(), ScalingCommands.Create(), AnalyzeCommands.Create()], args);

    static string Corpus(TempFolder dir) =>
        CorpusFiles.Jsonl(dir, "c.jsonl", CorpusFiles.Doc("the quick brown fox"), CorpusFiles.Doc("jumps over the lazy dog"), CorpusFiles.Doc("twice"));

    [Fact]
    public void DataPrepareWritesTheSameDatasetWithEitherSpelling()
    {
        using var dir = new TempFolder();
        var input = Corpus(dir);
        var (code, _, error) = Flame("data", "prepare", "--input", input, "--tokenizer", "demo", "--out", dir.File("a"));
        Assert.True(code == 0, error);
        (code, _, error) = Flame("data", "prepare", "--input", input, "--tokenizer", "demo", "--output", dir.File("b"));
        Assert.True(code == 0, error);
        Assert.True(new FileInfo(dir.File("a.bin")).Length > 0);
        Assert.Equal(File.ReadAllBytes(dir.File("a.bin")), File.ReadAllBytes(dir.File("b.bin")));
        Assert.Equal(File.ReadAllBytes(dir.File("a.idx")), File.ReadAllBytes(dir.File("b.idx")));
    }

    [Theory]
    [InlineData("--out")]
    [InlineData("--output")]
    public void ARefusalNamesTheSpellingTheUserTyped(string spelling)
    {
        using var dir = new TempFolder();
        var input = Corpus(dir);
        File.WriteAllText(dir.File("ds.bin"), "a downloaded dataset");
        var (code, _, error) = Flame("data", "prepare", "--input", input, "--tokenizer", "demo", spelling, dir.File("ds"));
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains($"choose another {spelling},", error);
        Assert.Equal("a downloaded dataset", File.ReadAllText(dir.File("ds.bin")));
    }

    [Fact]
    public void TokenizerTrainWritesTheSameFileWithEitherSpelling()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "t.jsonl", CorpusFiles.Doc("low lower lowest"), CorpusFiles.Doc("new newer newest"));
        var (code, _, error) = Flame("tokenizer", "train", "--input", input, "--vocab-size", "270", "--out", dir.File("a.json"));
        Assert.True(code == 0, error);
        (code, _, error) = Flame("tokenizer", "train", "--input", input, "--vocab-size", "270", "--output", dir.File("b.json"));
        Assert.True(code == 0, error);
        Assert.Contains("\"merges\"", File.ReadAllText(dir.File("a.json")));
        Assert.Equal(File.ReadAllText(dir.File("a.json")), File.ReadAllText(dir.File("b.json")));
    }

    [Fact]
    public void ScalingPlanWritesTheSameSweepWithEitherSpelling()
    {
        using var dir = new TempFolder();
        string[] plan = ["scaling", "plan", "--presets", "flame-moe-38m,flame-moe-98m", "--budgets", "1e18,3e18", "--json"];
        var (code, _, error) = Flame([.. plan, "--out", dir.File("a")]);
        Assert.True(code == 0, error);
        (code, _, error) = Flame([.. plan, "--output", dir.File("b")]);
        Assert.True(code == 0, error);
        var a = Directory.GetFiles(Path.Combine(dir.File("a"), "runs")).Order().ToArray();
        var b = Directory.GetFiles(Path.Combine(dir.File("b"), "runs")).Order().ToArray();
        Assert.Equal(4, a.Length);
        Assert.Equal(a.Select(Path.GetFileName), b.Select(Path.GetFileName));
        Assert.Equal(a.Select(File.ReadAllText), b.Select(File.ReadAllText));
    }

    [Fact]
    public void AnalyzeWritesTheSameTablesWithEitherSpelling()
    {
        using var dir = new TempFolder();
        var traces = dir.File("traces");
        var tokens = Enumerable.Range(0, 30).Select(i => i % 3).ToArray();
        TraceFixtures.WriteSamples(Path.Combine(traces, "samples", "000.parquet"), tokens);
        foreach (var step in new long[] { 1, 2 })
            TraceFixtures.WriteLayer(TraceFixtures.LayerPath(traces, step, 2), tokens.Select(t => new[] { t, 3 + (int)step }).ToArray());
        foreach (var (spelling, folder) in new[] { ("--out", "a"), ("--output", "b") })
        {
            var (code, _, error) = Flame("analyze", "saturation", "--traces", traces, "--experts", "8", "--no-plots", spelling, dir.File(folder));
            Assert.True(code == 0, error);
        }
        var table = File.ReadAllText(Path.Combine(dir.File("a"), "saturation.csv"));
        Assert.Contains("\n", table.Trim());
        Assert.Equal(table, File.ReadAllText(Path.Combine(dir.File("b"), "saturation.csv")));
    }

    [Fact]
    public void BothSpellingsAtOnceOrNeitherWhenRequiredIsOneLineAndExitTwo()
    {
        using var dir = new TempFolder();
        var input = Corpus(dir);
        var (code, _, error) = Flame("data", "prepare", "--input", input, "--out", dir.File("a"), "--output", dir.File("b"));
        Assert.Equal(2, code);
        Assert.Equal("error: --output is another spelling of --out; give it once", error.Trim());
        (code, _, error) = Flame("tokenizer", "train", "--input", input);
        Assert.Equal(2, code);
        Assert.Equal("error: Option '--out' is required.", error.Trim());
        Assert.Equal(["c.jsonl"], dir.Entries());
    }

    [Theory]
    [InlineData("data", "prepare", "--out <PREFIX>")]
    [InlineData("tokenizer", "train", "--out <FILE>")]
    [InlineData("analyze", "all", "--out <DIR>")]
    [InlineData("scaling", "plan", "--out <SWEEP>")]
    public void HelpShowsOnlyTheCanonicalSpelling(string group, string command, string expected)
    {
        var (code, stdout, _) = Flame(group, command, "--help");
        Assert.Equal(0, code);
        Assert.Contains(expected, stdout);
        Assert.DoesNotContain("--output", stdout);
    }
}
