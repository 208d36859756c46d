using System.CommandLine;
using System.Text.Json;
using Flame.Benchmarking;
using Flame.Cli;
using Flame.Cli.Commands;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Model;
using Flame.Tests.Training;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Benchmarking;

public class TrainBenchmarkTests
{
    [Fact]
    public void FirstStepLossOnATokenFileIsTheTrainersFirstLoss()
    {
        using var dir = new TempFolder();
        var config = TrainerTests.TinyRun(TrainerTests.WriteCorpus(dir)) with { Iterations = 3, EvalIters = 0, Checkpoints = 1 };
        var trainerLogs = new Trainer(config, dir.File("run")).Run(resume: false);
        var result = TrainBenchmark.Run(new TrainBenchmarkOptions(config.ResolveModel(), CPU, config.MicroBatch, config.Sequence,
            Steps: 2, Warmup: 0, Accumulation: config.AccumulationSteps, DataPrefix: config.Data[0], BreakdownSteps: 1, Seed: config.Seed));
        // Same init, same samples (step 0 = samples 0..3 of the shuffled training split), same loss and accumulation.
        Assert.Equal(trainerLogs[0].LmLoss, result.FirstLoss, 1e-5); // two code paths over a loss of ~9: ~10 fp32 ulps
        Assert.Equal(config.Data[0], result.Data);
        Assert.Equal(2, result.Accumulation);
    }

    [Fact]
    public void ReportsThroughputFlopsMfuAndABreakdownThatAddsUp()
    {
        var result = TrainBenchmark.Run(new TrainBenchmarkOptions(TinyModels.Moe, CPU, MicroBatch: 2, Sequence: 32, Steps: 2,
            Warmup: 1, PeakTflops: 0.5, BreakdownSteps: 2));
        Assert.Equal("synthetic", result.Data);
        Assert.Equal(2 * 32 / result.SecondsPerStep, result.TokensPerSecond, 6);
        Assert.Equal(ModelAccounting.Of(TinyModels.Moe, 32).FlopsPerToken, result.FlopsPerToken);
        Assert.Equal(result.TokensPerSecond * result.FlopsPerToken / 1e12, result.ModelTflops, 12);
        Assert.Equal(result.ModelTflops / 0.5, result.Mfu!.Value, 12);
        Assert.Null(result.Memory.PeakBytes);
        var breakdown = result.Breakdown!;
        Assert.Equal("wall-clock", breakdown.Timer);
        Assert.Equal(["other", "attention", "moe_dispatch", "expert_gemm", "combine", "shared_ffn", "optimizer"],
            breakdown.Phases.Select(p => p.Phase));
        Assert.All(breakdown.Phases, p => Assert.True(p.MillisecondsPerStep > 0, $"{p.Phase} took no time"));
        Assert.Equal(breakdown.MillisecondsPerStep, breakdown.Phases.Sum(p => p.MillisecondsPerStep), 6);
        Assert.Equal(1.0, breakdown.Phases.Sum(p => p.Share), 9);
    }

    [Fact]
    public void BackwardVisitsThePhasesInReverse()
    {
        manual_seed(61);
        using var model = new FlameModel(TinyModels.Moe);
        var timeline = new PhaseTimeline(new SynchronisedClock(CPU));
        model.PhaseProbe = timeline;
        var tokens = randint(0, 100, [2, 9]);
        timeline.BeginStep();
        var output = model.forward(tokens[.., ..^1]);
        var forward = timeline.BoundaryPhases.ToList();
        output.TrainingLoss(FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..])).backward();
        var backward = timeline.BoundaryPhases.Skip(forward.Count).ToList();
        // Layer 0 is dense, layers 1 and 2 are MoE; each backward boundary starts the phase that came before its mark.
        StepPhase[] dense = [StepPhase.Attention, StepPhase.Other, StepPhase.SharedFfn, StepPhase.Other];
        StepPhase[] moe = [StepPhase.Attention, StepPhase.Other, StepPhase.MoeDispatch, StepPhase.ExpertGemm, StepPhase.Combine,
            StepPhase.Other, StepPhase.SharedFfn, StepPhase.Other];
        Assert.Equal([StepPhase.Other, .. dense, .. moe, .. moe], forward);
        Assert.Equal(forward.Take(forward.Count - 1).Reverse(), backward);
        // The marks do not change the numbers.
        model.PhaseProbe = null;
        var plain = model.forward(tokens[.., ..^1]).Logits;
        Assert.True(plain.eq(output.Logits).all().item<bool>());
    }

    [Fact]
    public void FusedAdamWOptionTrainsTheSameLosses()
    {
        TrainBenchmarkResult Run(bool fused) => TrainBenchmark.Run(new TrainBenchmarkOptions(TinyModels.Moe, CPU, MicroBatch: 2,
            Sequence: 16, Steps: 3, Warmup: 0, FusedAdamW: fused, LearningRate: 1e-2));
        var (plain, fused) = (Run(false), Run(true));
        Assert.Equal(plain.FirstLoss, fused.FirstLoss); // exact: before any step the two runs are the same computation
        Assert.Equal(plain.FinalLoss, fused.FinalLoss, 1e-4); // fused AdamW reorders the update's fp32 ops (FusedAdamWTests: weights within 5e-6)
        Assert.True(fused.FusedAdamW);
    }

    [Fact]
    public void CommandPrintsJsonAndRejectsABadTimer()
    {
        var root = new RootCommand { BenchCommands.Create() };
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        int ok, bad;
        try
        {
            string[] common = ["bench", "train", "--preset", "demo", "--set", "layers=2", "--set", "vocab_size=256", "--device", "cpu",
                "--micro-batch", "1", "--seq", "16", "--steps", "1", "--warmup", "0", "--json"];
            ok = CommandRunner.Run(root, [.. common, "--breakdown", "1"]);
            bad = CommandRunner.Run(root, [.. common, "--breakdown", "1", "--breakdown-timer", "sundial"]);
        }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
        Assert.Equal(0, ok);
        var json = stdout.ToString();
        using var doc = JsonDocument.Parse(json[json.IndexOf('{')..(json.LastIndexOf('}') + 1)]);
        Assert.True(doc.RootElement.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.Equal(7, doc.RootElement.GetProperty("breakdown").GetProperty("phases").GetArrayLength());
        Assert.Equal(2, bad);
        Assert.Contains("sundial", stderr.ToString());
    }
}
