using System.CommandLine;
using Flame.Cli;
using Flame.Cli.Commands;
using Flame.Data.Indexed;

namespace Flame.Tests.Data;

/// <summary>The CLI end to end: prepare then inspect, and a user's mistake as exit code 2.</summary>
public class DataCommandTests
{
    static int Run(params string[] args)
    {
        var root = new RootCommand { DataCommands.Create(), TokenizerCommands.Create() };
        return CommandRunner.Run(root, args);
    }

    [Fact]
    public void PrepareThenInspect()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "x.jsonl", CorpusFiles.Doc("The jury said."), CorpusFiles.Doc("It rained."));
        Assert.Equal(0, Run("data", "prepare", "--input", input, "--tokenizer", "cl100k_base", "--output", dir.File("ds")));
        using (var data = IndexedDatasetReader.Open(dir.File("ds")))
        {
            Assert.Equal(IndexedDType.Int32, data.DType);
            Assert.Equal(100257, data.GetSequence(1)[^1]);
        }
        Assert.Equal(0, Run("data", "inspect", dir.File("ds"), "--tokenizer", "cl100k_base"));
    }

    [Fact]
    public void PrepareWithoutInputTokenizesTheDemoCorpus()
    {
        using var dir = new TempFolder();
        Assert.Equal(0, Run("data", "prepare", "--output", dir.File("brown")));
        using var data = IndexedDatasetReader.Open(dir.File("brown"));
        Assert.Equal(500, data.DocumentCount); // one document per Brown source file
        Assert.Equal(IndexedDType.UInt16, data.DType);
        Assert.Equal(0, data.GetSequence(499)[^1]);
    }

    [Fact]
    public void MistakesExitWithTwo()
    {
        using var dir = new TempFolder();
        Assert.Equal(2, Run("data", "prepare", "--input", dir.File("missing.jsonl"), "--output", dir.File("ds")));
        Assert.Equal(2, Run("data", "inspect", dir.File("nothing")));
        Assert.Equal(2, Run("data", "prepare", "--tokenizer", dir.File("no-tokenizer.json"), "--output", dir.File("ds")));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void TokenizerTrainWritesALoadableTokenizerJson()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "t.jsonl", CorpusFiles.Doc("low lower lowest"), CorpusFiles.Doc("new newer newest"));
        var output = dir.File("tokenizer.json");
        Assert.Equal(0, Run("tokenizer", "train", "--input", input, "--vocab-size", "270", "--output", output));
        var tokenizer = Flame.Data.Tokenization.TokenizerLoader.Load(output);
        Assert.Equal(0, tokenizer.EndOfDocumentId);
        Assert.True(tokenizer.VocabSize is > 257 and <= 270);
        Assert.Equal("lowest newer", tokenizer.Decode(tokenizer.Encode("lowest newer")));
        Assert.Equal(2, Run("tokenizer", "train", "--input", input, "--vocab-size", "100", "--output", dir.File("small.json")));
    }
}
