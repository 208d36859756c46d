using Flame.Cli.Commands;
using Flame.Data.Tokenization;

namespace Flame.Tests.Benchmarking;

/// <summary>`flame bench tokenize` encodes its document of random letters twice and reports the library's token count.</summary>
public class BenchTokenizeTests
{
    [Fact]
    public void BenchTokenizeReportsTheLibrarysTokenCountForTheFirstAndASecondEncode()
    {
        var (code, stdout, stderr) = CliHarness.Run([BenchCommands.Create()], ["bench", "tokenize", "--tokenizer", "cl100k_base", "--bytes", "3000", "--seed", "5"]);
        Assert.True(code == 0, stderr);
        // The same document, built as the command documents it: lowercase letters from Random(seed), no whitespace.
        var random = new Random(5);
        var text = new string(Enumerable.Range(0, 3000).Select(_ => (char)('a' + random.Next(26))).ToArray());
        int tokens = TokenizerLoader.Load("cl100k_base").Inner.EncodeToIds(text).Count;
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith($"cl100k_base: 3,000 chars -> {tokens:N0} tokens in ", lines[0]);
        Assert.Matches(@"^again: \d+\.\d\d s \(ranks read, code compiled\)$", lines[1].TrimEnd());
    }
}
