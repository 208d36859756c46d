using Flame.Cli.Commands;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>A dataset or tokenizer a command is pointed at may be someone's days of work: replaced only with --overwrite.</summary>
public class OutputFileSafetyTests
{
    static (int Code, string Out, string Err) Flame(params string[] args) =>
        CliHarness.Run([DataCommands.Create(), TokenizerCommands.Create()], args);

    [Fact]
    public void DataPrepareOverAnExistingDatasetIsRefusedAndItIsKept()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "c.jsonl", CorpusFiles.Doc("one two three"), CorpusFiles.Doc("four five"));
        File.WriteAllText(dir.File("ds.bin"), "a downloaded dataset");
        File.WriteAllText(dir.File("ds.idx"), "its index");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = Flame("data", "prepare", "--input", input, "--tokenizer", "demo", "--output", dir.File("ds"));
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(dir.File("ds.bin"), error);
        Assert.Contains("--overwrite", error);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));

        (code, _, error) = Flame("data", "prepare", "--input", input, "--tokenizer", "demo", "--output", dir.File("ds"), "--overwrite");
        Assert.True(code == 0, error);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before, "ds.bin", "ds.idx"));
        Assert.NotEqual("its index", File.ReadAllText(dir.File("ds.idx")));
    }

    [Fact]
    public void TokenizerTrainOverAnExistingFileIsRefusedAndItIsKept()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "t.jsonl", CorpusFiles.Doc("low lower lowest"), CorpusFiles.Doc("new newer newest"));
        File.WriteAllText(dir.File("tokenizer.json"), "{\"a trained tokenizer\": true}");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = Flame("tokenizer", "train", "--input", input, "--vocab-size", "270", "--output", dir.File("tokenizer.json"));
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(dir.File("tokenizer.json"), error);
        Assert.Contains("--overwrite", error);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }
}
