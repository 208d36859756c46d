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

        var second = ScalingSweep.Run(sweep);
        Assert.All(second, r => Assert.Equal(SweepRunOutcome.AlreadyFinished, r.Outcome));
        Assert.Equal(first.Select(r => r.Loss), second.Select(r => r.Loss));
    }
}
