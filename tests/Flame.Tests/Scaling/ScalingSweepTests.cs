using Flame.Experiments;
using Flame.Model;
using Flame.Scaling;
using Flame.Tests.Data;
using Flame.Tests.Training;

namespace Flame.Tests.Scaling;

public class ScalingSweepTests
{
    static ModelConfig Tiny(string name, int hidden) => new()
    {
        Name = name, Layers = 2, Hidden = hidden, Heads = 4, DenseFfn = 2 * hidden, Experts = 4, TopK = 2,
        ExpertFfn = hidden / 2, SharedExpertFfn = hidden, DenseLayers = [0], VocabSize = 8192, MaxPositions = 32,
    };

    [Fact]
    public void PlannedRunsTrainOnceAndCollectTheirValidationLoss()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        var baseConfig = ExperimentConfigFile.Load(null, [$"data.path={prefix}", "data.seq=16", "training.micro_batch=2",
            "training.global_batch=4", "training.device=cpu", "checkpoints.count=1", "evaluation.eval_iters=1"]);
        var models = new[] { Tiny("small", 16), Tiny("wide", 32) };
        var budgets = new[] { 2e9, 4e9 };
        var sweep = dir.File("sweep");

        var files = ScalingSweep.WritePlan(sweep, baseConfig, models, budgets);
        Assert.Equal(4, files.Count);
        // iterations = floor(C / (6 N tokens_per_step)) with tokens_per_step = 4 x 16 (spec §3).
        var planned = ExperimentConfigFile.Load(Path.Combine(sweep, "runs", ScalingSweep.RunName("wide", 4e9) + ".toml"), []);
        long n = ModelAccounting.FlameParameterCount(models[1]);
        Assert.Equal((long)Math.Floor(4e9 / (6.0 * n * 64)), planned.Training.Iterations);
        Assert.Equal(32, planned.Training.ResolveModel().Hidden);

        var first = ScalingSweep.Run(sweep);
        Assert.All(first, r => Assert.Equal(SweepRunOutcome.Trained, r.Outcome));
        var rows = ScalingResultsCsv.Read(Path.Combine(sweep, ScalingSweep.ResultsFile));
        Assert.Equal(4, rows.Count);
        Assert.All(rows, r => Assert.InRange(r.Loss, 0.5, Math.Log(8192) + 1));
        Assert.Equal([2e9, 2e9, 4e9, 4e9], rows.Select(r => r.Flops).Order());

        // The loss column is the final test-split evaluation (what the original's W&B summary held), beside the validation.
        foreach (var r in first)
        {
            var metrics = File.ReadAllLines(Path.Combine(sweep, "runs", r.Name, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(metrics.Single(l => l.TryGetProperty("test_loss", out _)).GetProperty("test_loss").GetDouble(), r.Loss);
            Assert.Equal(r.Loss, r.TestLoss);
            Assert.Equal(metrics.Last(l => l.TryGetProperty("val_loss", out _)).GetProperty("val_loss").GetDouble(), r.ValidationLoss);
        }
        Assert.StartsWith("name,flops,params,tokens,loss,val_loss,test_loss", File.ReadAllText(Path.Combine(sweep, ScalingSweep.ResultsFile)));

        var second = ScalingSweep.Run(sweep);
        Assert.All(second, r => Assert.Equal(SweepRunOutcome.AlreadyFinished, r.Outcome));
        Assert.Equal(first.Select(r => r.Loss), second.Select(r => r.Loss));
    }

    [Fact]
    public void PlannedGridRunsUseTheOriginalsMicroBatches()
    {
        // scripts/ablation/search.sh: h256 32; h512 32 (L6, L9) and 16 (L12); h768 16; h1024 8; h1536 4; h2048 1.
        // Release presets as scripts/release/*.sh (flame-moe-721m: 8, though its grid twin L12-h1536 ran with 4).
        using var dir = new TempFolder();
        var baseConfig = ExperimentConfigFile.Load(null, ["data.seq=2048", "data.path=data/x", "model.preset=flame-moe-38m",
            "training.global_batch=1024", "training.micro_batch=2"]);
        var models = IsoFlopGrid.Architectures.Concat([ModelPresets.Get("flame-moe-721m"), ModelPresets.Get("flame-moe-1.7b")]).ToList();
        var files = ScalingSweep.WritePlan(dir.File("sweep"), baseConfig, models, [1e18]);
        var micro = files.ToDictionary(f => Path.GetFileNameWithoutExtension(f), f => ExperimentConfigFile.Load(f, []).Training.MicroBatch);
        var expected = new Dictionary<string, int>
        {
            ["L6-h256"] = 32, ["L9-h256"] = 32, ["L6-h512"] = 32, ["L9-h512"] = 32, ["L12-h512"] = 16,
            ["L6-h768"] = 16, ["L9-h768"] = 16, ["L12-h768"] = 16, ["L12-h1024"] = 8, ["L15-h1024"] = 8, ["L18-h1024"] = 8,
            ["L12-h1536"] = 4, ["L15-h1536"] = 4, ["L18-h1536"] = 4, ["L15-h2048"] = 1, ["L18-h2048"] = 1,
            ["flame-moe-721m"] = 8, ["flame-moe-1.7b"] = 4,
        };
        Assert.Equal(expected.OrderBy(e => e.Key), micro.Select(m => new KeyValuePair<string, int>(m.Key[..m.Key.IndexOf("-C", StringComparison.Ordinal)], m.Value)).OrderBy(e => e.Key));
        // A base whose global batch the original's micro-batch does not divide keeps its own.
        Assert.Equal(2, ScalingSweep.MicroBatchFor(IsoFlopGrid.Architectures[0], baseConfig.Training with { GlobalBatch = 6 }));
    }
}
