using System.CommandLine;
using System.Text.Json;
using Flame.Cli.Commands;
using Flame.Cli;
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

    [Theory]
    [InlineData("flame-moe-290m", "experts", "32")]
    [InlineData("flame-moe-290m", "top_k", "2")]
    [InlineData("demo", "dense_layers", "0,1")]
    [InlineData("demo", "hidden", "96")]
    public void InfoSetTakesTheConfigKeyAsTrainDoesAndTheBareKey(string preset, string leaf, string value)
    {
        var (bareCode, bare, bareErr) = Run("model", "info", "--preset", preset, "--set", $"{leaf}={value}", "--json");
        var (keyCode, keyed, keyErr) = Run("model", "info", "--preset", preset, "--set", $"model.{leaf}={value}", "--json");
        Assert.True(bareCode == 0, bareErr);
        Assert.True(keyCode == 0, keyErr);
        Assert.Equal(bare, keyed);
        // Both are the counts of the preset with that override, as `flame train --set model.KEY=VALUE` builds it.
        var config = Flame.Experiments.ExperimentConfigFile.Load(null, [$"model.preset={preset}", $"model.{leaf}={value}"]).Training.ResolveModel();
        var counts = ModelAccounting.Of(config);
        using var json = JsonDocument.Parse(keyed);
        Assert.Equal(counts.TotalParams, json.RootElement.GetProperty("total_params").GetInt64());
        Assert.Equal(counts.ActiveParams, json.RootElement.GetProperty("active_params").GetInt64());
        Assert.Equal(counts.FlameParams, json.RootElement.GetProperty("flame_params").GetInt64());
        Assert.NotEqual(Run("model", "info", "--preset", preset, "--json").Out, keyed); // the override took effect
    }

    [Fact]
    public void InfoSetWithModelExperts32GivesTheHalvedExpertCount()
    {
        var (code, output, error) = Run("model", "info", "--preset", "flame-moe-290m", "--set", "model.experts=32", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(32, json.RootElement.GetProperty("experts").GetInt32());
        Assert.Equal(ModelAccounting.Of(ModelOverrides.Apply(ModelPresets.Get("flame-moe-290m"), ["experts=32"])).TotalParams,
                     json.RootElement.GetProperty("total_params").GetInt64());
    }

    [Theory]
    [InlineData("training.iterations=5", "'training.iterations' is not a model number")]
    [InlineData("model.preset=flame-moe-38m", "name the model with --preset")]
    [InlineData("model.nonsense=1", "unknown model key 'nonsense'")]
    public void InfoSetRefusesKeysThatAreNotModelNumbers(string assignment, string expected)
    {
        var (code, _, error) = Run("model", "info", "--preset", "demo", "--set", assignment);
        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
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
