using Flame.Checkpointing;
using Flame.Experiments;
using Flame.Training;

namespace Flame.Tests.Experiments;

/// <summary>configs/*.toml against FLAME-MoE's release scripts (cmu-flame/FLAME-MoE scripts/release/*.sh, spec §2 and §7).</summary>
public class ReleaseRecipeTests
{
    /// <summary>name, TRAIN_ITERS, SAVE_INTERVAL, MICRO_BATCH_SIZE, as the release scripts set them.</summary>
    public static readonly TheoryData<string, long, long, int> Original = new()
    {
        { "flame-moe-38m", 2121, 212, 32 },
        { "flame-moe-98m", 2424, 242, 32 },
        { "flame-moe-115m", 4165, 416, 16 },
        { "flame-moe-290m", 5473, 540, 8 },
        { "flame-moe-419m", 5685, 568, 8 },
        { "flame-moe-721m", 8815, 880, 8 },
        { "flame-moe-1.7b", 11029, 1100, 4 },
        { "dclm-411m", 3864, 380, 8 },   // dclm-411m-1x.sh
        { "dclm-1b", 13252, 1320, 4 },   // dclm-1b-1x.sh
    };

    internal static string ConfigsFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Flame.sln"))) return Path.Combine(dir.FullName, "configs");
        throw new DirectoryNotFoundException("the repository root (Flame.sln) above the test binaries");
    }

    [Fact]
    public void TheNineReleasedRunsAreThere()
    {
        var names = Directory.GetFiles(ConfigsFolder(), "*.toml").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(Original.Select(row => (string)row[0]).Order(StringComparer.Ordinal), names);
    }

    [Theory]
    [MemberData(nameof(Original))]
    public void EachRecipeHasTheOriginalsNumbers(string name, long iterations, long saveInterval, int microBatch)
    {
        var path = Path.Combine(ConfigsFolder(), name + ".toml");
        var config = ExperimentConfigFile.Load(path, []);
        var t = config.Training;
        var model = t.ResolveModel();
        Assert.Equal(name, model.Name);
        Assert.Equal((2048, 1024, microBatch), (t.Sequence, t.GlobalBatch, t.MicroBatch));
        Assert.Equal(iterations, t.Iterations);                  // from the FLOP budget where the file gives one
        Assert.Equal(saveInterval, t.Cadence.Interval);
        Assert.Equal(saveInterval, t.EvaluationCadence.Interval);           // EVAL_INTERVAL = SAVE_INTERVAL
        var checkpoints = t.Cadence.Steps().ToList();
        Assert.Equal(11, checkpoints.Count);                     // ten saves plus the final one, as the released repos hold
        Assert.Equal(saveInterval * 10, checkpoints[^2]);
        Assert.Equal(iterations, checkpoints[^1]);
        Assert.Equal((3e-4, 3e-5, 0.01, 0.1), (t.MaxLr, t.MinLr, t.WarmupFraction, t.DecayFraction));
        Assert.Equal((100, 100), (t.EvalIters, t.TestIters));    // Megatron's default eval_iters, for validation and test
        Assert.Equal(42, config.Evaluation.FewShotSeed);         // scripts/evaluate.sh: lm_eval --seed 42 sets the few-shot seed
        // The GPT-NeoX (pythia) tokenizer: 50,277 ids, padded to 50,304; the user supplies its tokenizer.json.
        Assert.Equal((50277, 50304), (model.VocabSize, model.PaddedVocab));
        Assert.EndsWith("tokenizer.json", t.Tokenizer);
        Assert.Contains("EleutherAI/pythia-12b's tokenizer.json", File.ReadAllText(path));
        if (model.IsMoe)
        {
            Assert.True(config.Tracing.Enabled);
            Assert.Equal("test", config.Tracing.Split);
            Assert.Equal(25L * 1024 * 2048, config.Tracing.Tokens);   // 52,428,800, the published traces' count
            // Whole samples of the run's sequence (the capture rounds down to them): 25 global batches of 1024, no token lost.
            Assert.Equal((25L * 1024, 0L), (config.Tracing.Tokens / t.Sequence, config.Tracing.Tokens % t.Sequence));
        }
        else Assert.False(config.Tracing.Enabled);
    }

    [Fact]
    public void TheDefaultCadenceIsTenPlusTheFinalOne()
    {
        // The original's intervals where it used floor(iters / 10) come out of the default rule too.
        foreach (var (iters, interval) in new[] { (2121L, 212L), (2424L, 242L), (4165L, 416L), (5685L, 568L) })
        {
            var cadence = CheckpointCadence.For(iters, 10, 0);
            Assert.Equal(interval, cadence.Interval);
            Assert.Equal(11, cadence.Steps().Count());
        }
        var demo = CheckpointCadence.For(120, 10, 0);                     // 11, 22, ..., 110 and 120
        Assert.Equal([11L, 22, 33, 44, 55, 66, 77, 88, 99, 110, 120], demo.Steps());
        Assert.Equal(10, demo.EvaluationIndex(120));                      // the eleventh validation
        Assert.Equal(0, demo.EvaluationIndex(11));
        Assert.Equal(120 / 11 + 1, demo.MegatronEvaluations);             // Megatron sizes the validation split for 11
    }
}
