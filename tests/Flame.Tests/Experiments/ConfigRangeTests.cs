using Flame.Experiments;
using Flame.Tests.Data;

namespace Flame.Tests.Experiments;

/// <summary>Every config number range-checked at load, one line naming the key, the value and the range.</summary>
public class ConfigRangeTests
{
    static string Refusal(params string[] overrides) =>
        Assert.Throws<UserError>(() => ExperimentConfigFile.Load(null, overrides)).Message;

    static string FileRefusal(TempFolder dir, string toml)
    {
        var path = dir.File("experiment.toml");
        File.WriteAllText(path, toml);
        return Assert.Throws<UserError>(() => ExperimentConfigFile.Load(path, [])).Message;
    }

    [Theory]
    [InlineData("optimizer.clip_grad=-1", "optimizer.clip_grad = -1: out of range; allowed: a finite number > 0")]
    [InlineData("optimizer.clip_grad=0", "optimizer.clip_grad = 0: out of range; allowed: a finite number > 0")]
    [InlineData("optimizer.beta1=1", "optimizer.beta1 = 1: out of range; allowed: a finite number in [0, 1)")]
    [InlineData("optimizer.beta2=-0.1", "optimizer.beta2 = -0.1: out of range; allowed: a finite number in [0, 1)")]
    [InlineData("optimizer.eps=0", "optimizer.eps = 0: out of range; allowed: a finite number > 0")]
    [InlineData("optimizer.weight_decay=-0.01", "optimizer.weight_decay = -0.01: out of range; allowed: a finite number >= 0")]
    [InlineData("schedule.max_lr=0", "schedule.max_lr = 0: out of range; allowed: a finite number > 0")]
    [InlineData("schedule.warmup_fraction=1.5", "schedule.warmup_fraction = 1.5: out of range; allowed: a finite number in [0, 1]")]
    [InlineData("data.seq=0", "data.seq = 0: out of range; allowed: an integer >= 1")]
    [InlineData("training.log_every=0", "training.log_every = 0: out of range; allowed: an integer >= 1")]
    [InlineData("tracing.tokens=0", "tracing.tokens = 0: out of range; allowed: an integer >= 1")]
    [InlineData("evaluation.limit=-3", "evaluation.limit = -3: out of range; allowed: an integer >= 0")]
    [InlineData("model.init_std=0", "init_std = 0: out of range; allowed: a finite number > 0")]
    [InlineData("model.rope_base=-10000", "rope_base = -10000: out of range; allowed: a finite number > 0")]
    [InlineData("model.norm_eps=0", "norm_eps = 0: out of range; allowed: a finite number > 0")]
    public void ANumberOutsideItsRangeIsRefusedNamingTheKeyTheValueAndTheRange(string assignment, string expected)
    {
        var message = Refusal(assignment);
        Assert.Contains(expected, message);
        Assert.DoesNotContain('\n', message);
    }

    [Theory]
    [InlineData("optimizer.eps=NaN", "optimizer.eps = NaN: out of range")]
    [InlineData("schedule.max_lr=Infinity", "schedule.max_lr = Infinity: out of range")]
    [InlineData("model.init_std=NaN", "init_std = NaN: out of range")]
    public void NaNAndInfinityAreRefusedFromTheCommandLine(string assignment, string expected) =>
        Assert.Contains(expected, Refusal(assignment));

    [Theory]
    [InlineData("[optimizer]\neps = nan\n", "optimizer.eps = NaN: out of range; allowed: a finite number > 0")]
    [InlineData("[optimizer]\nclip_grad = -inf\n", "optimizer.clip_grad = -Infinity: out of range; allowed: a finite number > 0")]
    [InlineData("[training]\nflop_budget = inf\n", "training.flop_budget = Infinity: out of range; allowed: a finite number >= 0")]
    [InlineData("[model]\nrope_base = +inf\n", "rope_base = Infinity: out of range; allowed: a finite number > 0")]
    public void TomlNanAndInfLiteralsAreRefused(string toml, string expected)
    {
        using var dir = new TempFolder();
        Assert.Contains(expected, FileRefusal(dir, toml));
    }

    [Fact]
    public void EveryNumericKeyOutsideTheModelHasARange()
    {
        var numeric = ExperimentKeys.All.Where(k => k.Kind is ConfigValueKind.Integer or ConfigValueKind.Real && k.Section != "model");
        Assert.All(numeric, k => Assert.NotNull(ConfigRanges.Of(k.Name)));
        ConfigRanges.Check(new ExperimentConfig()); // the defaults are in range
    }

    [Fact]
    public void AFlopBudgetWhoseIterationsCannotBeIndexedIsRefusedWithTheNumbers()
    {
        // flame-moe-38m: N = 2*50304*256 + ... ; 1e40 FLOPs / (6 N x 16 x 256 tokens) is ~1e25 iterations, far beyond a long.
        var message = Refusal("model.preset=flame-moe-38m", "training.flop_budget=1e40");
        Assert.Matches(@"^training\.flop_budget = 1E\+40 gives [0-9.]+E\+\d+ iterations x global batch 16 = [0-9.]+E\+\d+ samples, more than the 2,147,483,591 a training stream can index; lower the budget$", message);
    }

    [Fact]
    public void IterationsBeyondWhatATrainingStreamCanIndexAreRefused() =>
        Assert.Equal("training.iterations 1000000000000 x training.global_batch 16 = 1.6E+13 samples, more than the 2,147,483,591 a training stream can index",
            Refusal("training.iterations=1000000000000"));

    [Fact]
    public void ADuplicateKeyIsAnErrorNamingTheKeyAndTheFile()
    {
        using var dir = new TempFolder();
        var message = FileRefusal(dir, "[optimizer]\nclip_grad = 1.0\nweight_decay = 0.1\nclip_grad = 0.5\n");
        Assert.StartsWith($"{dir.File("experiment.toml")}: not valid TOML: line 4: The key `optimizer.clip_grad`", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void ADuplicateSectionIsAnErrorNamingTheSectionAndTheFile()
    {
        using var dir = new TempFolder();
        var message = FileRefusal(dir, "[training]\niterations = 5\n[optimizer]\neps = 1e-8\n[training]\nseed = 3\n");
        Assert.StartsWith($"{dir.File("experiment.toml")}: not valid TOML: line 5: The key `training`", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void SamplesThatNeedMoreEpochsThanAStreamCanIndexAreNamedNotAllocated()
    {
        using var dir = new TempFolder();
        var prefix = Flame.Tests.Training.TrainerTests.WriteCorpus(dir); // 60 documents of 41 tokens
        // 2e9 samples of 64 tokens over a train split of a few thousand tokens: tens of millions of epochs, whose
        // document order (documents x epochs longs) is more than an array can hold.
        var error = Assert.Throws<UserError>(() => Flame.Data.Samples.DataPath.Parse([prefix])
            .Open(new Flame.Data.Samples.GptSampleOptions(64, Flame.Data.Samples.SplitName.Train, Samples: 2_000_000_000)));
        Assert.Matches(@"^.+tiny: 2,000,000,000 samples of 64 tokens need [0-9.]+E\+0\d epochs of the train split's [0-9,]+ tokens in \d+ documents, more than a training stream can index; ask for fewer iterations or give more data$", error.Message);
    }
}
