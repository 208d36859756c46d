using System.CommandLine;
using Flame.Cli;
using Flame.Cli.Commands;
using Flame.Tests.Data;
using Flame.Tests.Interop;
using Flame.Tests.Model;

namespace Flame.Tests.Generation;

/// <summary>`flame generate` end to end on a tiny checkpoint with the demo tokenizer.</summary>
public class GenerateCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run([GenerateCommands.Create()], args);

    [Fact]
    public void GreedyTextIsTheSameWithAndWithoutTheCache()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe with { VocabSize = 8192 }); // the demo tokenizer's size
        string[] args = ["generate", "--run", dir.File("run"), "--prompt", "The jury said", "--max-tokens", "6", "--temperature", "0", "--ignore-eos"];
        var (code, cached, error) = Run(args);
        Assert.True(code == 0, error);
        Assert.StartsWith("The jury said", cached);
        Assert.True(cached.Trim().Length > "The jury said".Length);
        Assert.Contains("6 tokens", error);
        Assert.Contains("KV cache", error);
        var (code2, uncached, error2) = Run([.. args, "--no-cache"]);
        Assert.True(code2 == 0, error2);
        Assert.Equal(cached, uncached);
        Assert.Contains("no cache", error2);
    }

    [Fact]
    public void MistakesAreOneLineErrors()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe); // 100-token vocabulary, demo tokenizer of 8192
        var (code, _, error) = Run("generate", "--run", dir.File("run"), "--prompt", "The jury said");
        Assert.Equal(2, code);
        Assert.Contains("outside the model's 128-token vocabulary", error);
        (code, _, error) = Run("generate", "--run", dir.File("run"), "--prompt", "x", "--top-p", "0");
        Assert.Equal(2, code);
        Assert.Contains("top-p must be in (0, 1]", error);
        (code, _, error) = Run("generate", "--run", dir.File("nowhere"), "--prompt", "x");
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
    }
}
