using System.CommandLine;
using Flame.Cli.Commands;
using Flame.Data.Indexed;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>
/// Every failure is one line, and bad input neither hangs nor lies: each case once ended in a stack
/// trace or a wrong success. Each asserts the exit code, the one-line message and that nothing outside the
/// command's own output changed.
/// </summary>
public class OneLineFailureTests
{
    static readonly Func<Command>[] Commands = [DataCommands.Create, RunCommands.CreateTrain];

    static (int Code, string Out, string Err) Flame(params string[] args) => CliHarness.Run(Commands.Select(c => c()).ToArray(), args);

    /// <summary>Runs a command that must fail with <paramref name="code"/>, one line on stderr, and nothing changed in <paramref name="dir"/>.</summary>
    static string Fails(TempFolder dir, int code, params string[] args)
    {
        var before = FolderSnapshot.Of(dir.Path);
        var (exit, _, err) = Flame(args);
        Assert.True(code == exit, $"exit {exit}, stderr: {err}");
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.StartsWith("error: ", err);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
        return err.Trim();
    }

    static string Corpus(TempFolder dir) => CorpusFiles.Jsonl(dir, "c.jsonl", CorpusFiles.Doc("The jury said."), CorpusFiles.Doc("It rained."));

    [Fact]
    public void PrepareWithAnEmptyOutputIsRefused()
    {
        using var dir = new TempFolder();
        var err = Fails(dir, 2, "data", "prepare", "--input", Corpus(dir), "--output", "");
        Assert.Contains("the output prefix is empty", err);
    }

    [Fact]
    public void PrepareWithAFolderNameAsOutputIsRefused()
    {
        using var dir = new TempFolder();
        var err = Fails(dir, 2, "data", "prepare", "--input", Corpus(dir), "--output", dir.Path + "/");
        Assert.Contains($"{dir.Path}/: is a folder name, not a file prefix", err);
    }

    [Fact]
    public void PrepareUnderAFileNamesTheFile()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("afile"), "x");
        var err = Fails(dir, 2, "data", "prepare", "--input", Corpus(dir), "--output", dir.File("afile/ds"));
        Assert.Contains($"{dir.File("afile")}: is a file, not a folder", err);
    }

    [Fact]
    public void PrepareOntoAFolderNamedLikeTheDataFileIsRefused()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("ds.bin"));
        var err = Fails(dir, 2, "data", "prepare", "--input", Corpus(dir), "--output", dir.File("ds"));
        Assert.Contains($"{dir.File("ds.bin")}: exists as a folder", err);
    }

    [Fact]
    public void PrepareIntoAReadOnlyPlaceIsPermissionDeniedWithExit1()
    {
        using var dir = new TempFolder();
        var err = Fails(dir, 1, "data", "prepare", "--input", Corpus(dir), "--output", "/sys/flame-test-ds");
        Assert.Contains("permission denied", err);
        Assert.Contains("/sys/flame-test-ds", err);
    }

    [Fact]
    public void TrainWithOutUnderAFileNamesTheFile()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("afile"), "x");
        var err = Fails(dir, 2, "train", "--out", dir.File("afile/run"), "--set", "training.iterations=1");
        Assert.Contains($"{dir.File("afile")}: is a file, not a folder", err);
    }

    [Fact]
    public void StdinOrAnUnknownExtensionWithoutFormatIsRefused()
    {
        using var dir = new TempFolder();
        var err = Fails(dir, 2, "data", "prepare", "--input", "/dev/stdin", "--output", dir.File("ds"));
        Assert.Contains("/dev/stdin: cannot tell what kind of file this is", err);
        Assert.Contains("--format jsonl|text|parquet", err);
        File.WriteAllText(dir.File("corpus.dat"), CorpusFiles.Doc("piped JSON lines") + "\n" + CorpusFiles.Doc("second") + "\n");
        err = Fails(dir, 2, "data", "prepare", "--input", dir.File("corpus.dat"), "--output", dir.File("ds"));
        Assert.Contains($"{dir.File("corpus.dat")}: cannot tell what kind of file this is", err);
    }

    [Fact]
    public void AnUnknownExtensionWithFormatJsonlIsReadAsJsonl()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("corpus.dat"), CorpusFiles.Doc("piped JSON lines") + "\n" + CorpusFiles.Doc("second") + "\n");
        var (code, _, err) = Flame("data", "prepare", "--input", dir.File("corpus.dat"), "--format", "jsonl", "--output", dir.File("ds"));
        Assert.True(code == 0, err);
        using var data = IndexedDatasetReader.Open(dir.File("ds"));
        Assert.Equal(2, data.DocumentCount); // two documents, not one of JSON syntax
    }

    [Fact]
    public void AUtf8ByteOrderMarkBeforeJsonlIsAccepted()
    {
        using var dir = new TempFolder();
        var path = dir.File("bom.jsonl");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(CorpusFiles.Doc("first") + "\n" + CorpusFiles.Doc("second") + "\n")]);
        var (code, _, err) = Flame("data", "prepare", "--input", path, "--output", dir.File("ds"));
        Assert.True(code == 0, err);
        using var data = IndexedDatasetReader.Open(dir.File("ds"));
        Assert.Equal(2, data.DocumentCount);
    }

    [Fact]
    public void EmptyDocumentsAreSkippedAndCountedAndMalformedRecordsStillStop()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "e.jsonl", CorpusFiles.Doc("fine"), CorpusFiles.Doc(""), CorpusFiles.Doc(" \n "), CorpusFiles.Doc("also fine"));
        var (code, stdout, err) = Flame("data", "prepare", "--input", input, "--output", dir.File("ds"));
        Assert.True(code == 0, err);
        Assert.Contains("skipped 2 empty documents", stdout.ReplaceLineEndings(" "));
        using (var data = IndexedDatasetReader.Open(dir.File("ds"))) Assert.Equal(2, data.DocumentCount);
        var bad = CorpusFiles.Jsonl(dir, "bad.jsonl", CorpusFiles.Doc("fine"), "{oops");
        Assert.Contains($"{bad}:2: malformed JSON", Fails(dir, 2, "data", "prepare", "--input", bad, "--output", dir.File("other")));
    }

    [Fact]
    public void ATokenizerWithAnEmptyAddedTokenIsRefusedAtLoad()
    {
        using var dir = new TempFolder();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(global::Flame.Data.DemoAssets.TokenizerPath()))!;
        json["added_tokens"]!.AsArray().Add(new System.Text.Json.Nodes.JsonObject { ["id"] = 8191, ["content"] = "", ["special"] = true });
        File.WriteAllText(dir.File("tokenizer.json"), json.ToJsonString());
        var err = Fails(dir, 2, "data", "prepare", "--input", Corpus(dir), "--tokenizer", dir.File("tokenizer.json"), "--output", dir.File("ds"));
        Assert.Contains($"{dir.File("tokenizer.json")}: added token 8191 has empty content", err);
    }

    [Theory]
    [InlineData(IndexedDType.Int32, -5L)]
    [InlineData(IndexedDType.Int64, 1L << 33)]
    [InlineData(IndexedDType.Int64, -1L)]
    public void ADatasetWithANegativeOrInt64TokenIdIsNamed(IndexedDType dtype, long id)
    {
        using var dir = new TempFolder();
        using (var writer = new IndexedDatasetWriter(dir.File("ds"), dtype))
        {
            writer.AddDocument([1, 2, 3, 4]);
            writer.Complete();
        }
        // Token 2 of sequence 0 replaced by a value no tokenizer writes.
        var bytes = File.ReadAllBytes(dir.File("ds.bin"));
        int size = IndexedDTypes.Size(dtype);
        if (size == 4) BitConverter.GetBytes((int)id).CopyTo(bytes, 2 * size);
        else BitConverter.GetBytes(id).CopyTo(bytes, 2 * size);
        File.WriteAllBytes(dir.File("ds.bin"), bytes);
        var err = Fails(dir, 2, "data", "inspect", dir.File("ds"));
        Assert.Contains($"{dir.File("ds.bin")}: sequence 0, token 2 holds id {id}", err);
    }
}
