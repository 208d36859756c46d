using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class ScalingResultsCsvTests
{
    static IReadOnlyList<ScalingRun> Parse(params string[] lines) => ScalingResultsCsv.Parse(lines, "runs.csv");

    [Fact]
    public void ReadsRunsKeepsExtrasAndDerivesTokens()
    {
        var runs = Parse("name,flops,params,loss", "a,6e18,1e8,3.5", "", "b,1e18,2e8,3.9");
        Assert.Equal(2, runs.Count);
        Assert.Equal(1e10, runs[0].Tokens, 1e-3); // 6e18 / (6 * 1e8)
        Assert.Equal("a", runs[0].Extra["name"]);
        Assert.Equal(3.9, runs[1].Loss);
        var explicitTokens = Parse("flops, params, tokens, loss", "1e18, 1e8, 123, 3");
        Assert.Equal(123, explicitTokens[0].Tokens);
    }

    [Theory]
    [InlineData("runs.csv line 3 column 'loss': 'abc' is not a finite number", "flops,params,loss", "1e18,1e8,3", "1e18,1e8,abc")]
    [InlineData("runs.csv line 2 column 'params': -5 must be positive", "flops,params,loss", "1e18,-5,3")]
    [InlineData("runs.csv line 1: missing column 'loss'", "flops,params,tokens", "1e18,1e8,1e9")]
    [InlineData("runs.csv line 2: 2 fields, but the header has 3", "flops,params,loss", "1e18,1e8")]
    [InlineData("runs.csv: no rows below the header", "flops,params,loss")]
    [InlineData("runs.csv: empty file", "")]
    public void BadInputNamesFileLineAndColumn(string expected, params string[] lines)
    {
        var error = Assert.Throws<UserError>(() => Parse(lines));
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public void MissingFileIsAUserError() =>
        Assert.Contains("no such file", Assert.Throws<UserError>(() => ScalingResultsCsv.Read("/nonexistent/runs.csv")).Message);
}
