using System.CommandLine;
using System.Text.Json;
using Flame.Cli;
using Flame.Cli.Commands;
using Flame.Model;

namespace Flame.Tests.Model;

/// <summary>`flame model info` end to end, and overrides that cannot work as exit code 2.</summary>
public class ModelCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run([ModelCommands.Create()], args);

    [Fact]
    public void InfoJsonHasTheSpecsCountsFor290m()
    {
        var (code, output, _) = Run("model", "info", "--preset", "flame-moe-290m", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1_300_024_320L, json.RootElement.GetProperty("total_params").GetInt64());
        Assert.Equal(290_390_016L, json.RootElement.GetProperty("flame_params").GetInt64());
        Assert.True(json.RootElement.GetProperty("active_params").GetInt64() > 0);
        Assert.True(json.RootElement.GetProperty("flops_per_token").GetDouble() > 6 * 290_390_016.0);
    }

    [Theory]
    [InlineData("top_k=65", "top-k 65")]
    [InlineData("heads=5", "not divisible by heads 5")]
    [InlineData("dense_layers=0,9", "dense layer index 9 is out of range")]
    [InlineData("nonsense=1", "unknown model key 'nonsense'")]
    [InlineData("experts=many", "expected an integer")]
    public void ImpossibleOverridesExitWithCode2AndOneLine(string assignment, string expected)
    {
        var (code, _, error) = Run("model", "info", "--preset", "demo", "--set", assignment);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void UnknownPresetNamesTheValidOnes()
    {
        var (code, _, error) = Run("model", "info", "--preset", "flame-moe-5m");
        Assert.Equal(2, code);
        Assert.Contains("flame-moe-38m", error);
    }

    [Fact]
    public void OverridesChangeTheCounts()
    {
        // Halving the experts of flame-moe-290m removes 32 experts * 3hF_exp and 32 router rows in each of 8 MoE layers.
        var half = ModelOverrides.Apply(ModelPresets.Get("flame-moe-290m"), ["experts=32"]);
        long removed = 8L * 32 * (3L * 1024 * 704 + 1024);
        Assert.Equal(1_300_024_320L - removed, ModelAccounting.Of(half).TotalParams);
    }
}
