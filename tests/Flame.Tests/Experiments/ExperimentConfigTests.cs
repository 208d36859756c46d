using Flame.Experiments;
using Flame.Model;
using Flame.Tests.Data;

namespace Flame.Tests.Experiments;

public class ExperimentConfigTests
{
    static string Write(TempFolder dir, string toml)
    {
        var path = dir.File("experiment.toml");
        File.WriteAllText(path, toml);
        return path;
    }

    [Fact]
    public void FileValuesThenOverridesReachTheTrainingConfig()
    {
        using var dir = new TempFolder();
        var path = Write(dir, """
            [data]
            path = ["0.3", "a/prefix", "0.7", "b/prefix"]
            seq = 128
            [model]
            preset = "flame-moe-38m"
            experts = 16
            dense_layers = [0, 1]
            [training]
            iterations = 40
            micro_batch = 2
            global_batch = 8
            [optimizer]
            weight_decay = 0.1
            [tracing]
            enabled = false
            """);
        var config = ExperimentConfigFile.Load(path, ["training.iterations=12", "model.top_k=2", "schedule.max_lr=2e-3"]);   // not the default (1e-3)
        var t = config.Training;
        Assert.Equal(["0.3", "a/prefix", "0.7", "b/prefix"], t.Data);
        Assert.Equal((128, 12L, 2, 8), (t.Sequence, t.Iterations, t.MicroBatch, t.GlobalBatch));
        Assert.Equal(0.1, t.Optimizer.WeightDecay);
        Assert.Equal(2e-3, t.MaxLr);
        Assert.False(config.Tracing.Enabled);
        var model = t.ResolveModel();
        Assert.Equal((256, 16, 2), (model.Hidden, model.Experts, model.TopK));
        Assert.Equal([0, 1], model.DenseLayers);
    }

    [Fact]
    public void TheResolvedTomlReadsBackToTheSameExperiment()
    {
        using var dir = new TempFolder();
        var original = ExperimentConfigFile.Load(null, ["model.experts=8", "model.top_k=2", "training.flop_budget=3e13", "evaluation.tasks=piqa,arc_easy", "evaluation.data_dir=tasks"]);
        var resolved = Write(dir, ExperimentConfigFile.ToToml(original));
        var again = ExperimentConfigFile.Load(resolved, []);
        Assert.Equal(ExperimentConfigFile.ToToml(original), ExperimentConfigFile.ToToml(again));
        Assert.Equal(original.Training.Iterations, again.Training.Iterations);
        Assert.Equal(ModelConfigJson.Serialize(original.Training.ResolveModel()), ModelConfigJson.Serialize(again.Training.ResolveModel()));
        Assert.Equal(["piqa", "arc_easy"], again.Evaluation.Tasks);
    }

    [Fact]
    public void AFlopBudgetSetsIterationsByFlameMoesFormula()
    {
        // flame-moe-38m at 1e18 FLOPs with 1024 x 2048 tokens per step: 2121 iterations (spec §3).
        var config = ExperimentConfigFile.Load(null,
            ["model.preset=flame-moe-38m", "data.seq=2048", "training.micro_batch=8", "training.global_batch=1024", "training.flop_budget=1e18"]);
        Assert.Equal(2121, config.Training.Iterations);
        Assert.Equal(ModelAccounting.IterationsForBudget(ModelPresets.Get("flame-moe-38m"), 1e18, 1024 * 2048), config.Training.Iterations);
    }

    [Theory]
    [InlineData("training.iteratons=5", "did you mean 'training.iterations'")]
    [InlineData("experts=5", "did you mean 'model.experts'")]
    [InlineData("training.micro_batch=lots", "training.micro_batch = lots: expected an integer")]
    [InlineData("training.global_batch=12", "global batch 12 must be a positive multiple of the micro-batch 8")]
    [InlineData("model.top_k=65", "top-k 65")]
    [InlineData("data.seq=4096", "data.seq 4096 exceeds model.max_positions 256")]
    [InlineData("evaluation.tasks=piqa", "evaluation.tasks needs evaluation.data_dir")]
    [InlineData("tracing.enabled=maybe", "expected true or false")]
    public void BadValuesNameTheKey(string assignment, string expected)
    {
        var error = Assert.Throws<UserError>(() => ExperimentConfigFile.Load(null, [assignment]));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void BadFilesSayWhatIsWrong()
    {
        using var dir = new TempFolder();
        Assert.Contains("no such config file", Assert.Throws<UserError>(() => ExperimentConfigFile.Load(dir.File("none.toml"), [])).Message);
        Assert.Contains("not valid TOML", Assert.Throws<UserError>(() => ExperimentConfigFile.Load(Write(dir, "[training]\niterations = = 3\n"), [])).Message);
        Assert.Contains("did you mean 'training.iterations'",
            Assert.Throws<UserError>(() => ExperimentConfigFile.Load(Write(dir, "iterations = 3\n"), [])).Message);
        Assert.Contains("did you mean 'optimizer.weight_decay'",
            Assert.Throws<UserError>(() => ExperimentConfigFile.Load(Write(dir, "[optimizer]\nweight_decy = 0.1\n"), [])).Message);
    }

    [Fact]
    public void EveryKeyIsDocumentedAndReadable()
    {
        var defaults = new ExperimentConfig();
        Assert.Equal(ExperimentKeys.All.Count, ExperimentKeys.All.Select(k => k.Name).Distinct().Count());
        foreach (var key in ExperimentKeys.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(key.Description), key.Name);
            Assert.NotNull(key.Get(defaults));
        }
    }
}
