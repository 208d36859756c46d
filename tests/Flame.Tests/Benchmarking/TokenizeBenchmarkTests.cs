using Flame.Benchmarking;
using Flame.Data.Tokenization;

namespace Flame.Tests.Benchmarking;

/// <summary>`TokenizeBenchmark`: the document it encodes and the token count it reports.</summary>
public class TokenizeBenchmarkTests
{
    [Fact]
    public void TheDocumentIsSeededLowercaseLettersWithoutWhitespace()
    {
        var text = TokenizeBenchmark.Document(500, 7);
        Assert.Equal(500, text.Length);
        Assert.All(text, c => Assert.InRange(c, 'a', 'z'));
        Assert.Equal(text, TokenizeBenchmark.Document(500, 7));
        Assert.NotEqual(text, TokenizeBenchmark.Document(500, 8));
        Assert.Throws<UserError>(() => TokenizeBenchmark.Document(-1, 7));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BothPathsReportTheLibrarysTokenCount(bool libraryOnly)
    {
        var r = TokenizeBenchmark.Run("demo", 2000, 4, libraryOnly);
        int expected = TokenizerLoader.Load("demo").Inner.EncodeToIds(TokenizeBenchmark.Document(2000, 4)).Count;
        Assert.Equal(expected, r.Tokens);
        Assert.Equal(2000, r.Chars);
        Assert.Equal(libraryOnly, r.LibraryOnly);
        Assert.Equal(libraryOnly, r.AgainSeconds is null);
        Assert.True(r.Seconds >= 0);
    }
}
