using System.CommandLine;
using System.Text.Json;
using Flame.Benchmarking;
using Flame.Cli.Commands;
using Flame.Cli;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Model;
using Flame.Tests.Training;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Benchmarking;

public class TrainBenchmarkTests
{
    /// <summary>
    /// Five steps of flame train at a constant learning rate (no warm-up, no decay) on a token file, logged every step,
    /// high enough that clipping acts on some of them.
    /// </summary>
    internal static TrainingConfig FiveClippedSteps(string prefix) => TrainerTests.TinyRun(prefix) with
    {
        Iterations = 5, LogEvery = 1, MaxLr = 2e-2, MinLr = 2e-2, WarmupFraction = 0, DecayFraction = 0,
        EvalIters = 0, TestIters = 0, Checkpoints = 1,
    };

    [Fact]
    public void BenchTrainAndItsParallelFormTakeTheTrainersStepsOnATokenFile()
    {
        using var dir = new TempFolder();
        var config = FiveClippedSteps(TrainerTests.WriteCorpus(dir));
        var trainer = new Trainer(config, dir.File("run")).Run(resume: false);
        Assert.Equal([1L, 2, 3, 4, 5], trainer.Select(l => l.Step));
        // Clipping acts: some steps' norms exceed optimizer.clip_grad (1.0) and some do not, so both paths are compared.
        Assert.Contains(trainer, l => l.GradNorm > config.Optimizer.ClipNorm);
        Assert.Contains(trainer.Skip(1), l => l.GradNorm > 0);

        var options = new TrainBenchmarkOptions(config.ResolveModel(), CPU, config.MicroBatch, config.Sequence, Steps: 5, Warmup: 0,
            Accumulation: config.GlobalBatch / config.MicroBatch, DataPrefix: config.Data[0], LearningRate: config.MaxLr, Seed: config.Seed);
        var bench = TrainBenchmark.Run(options);
        var parallel = Assert.Single(ParallelBenchmark.Run(new ParallelBenchmarkOptions(options), new Flame.Distributed.LocalCommunicator(), "none").Layouts);
        // The same computation (one TrainingStep, the same samples, init and learning rate) on one process: the same
        // fp32 losses bit for bit. A difference here means the benchmark no longer times the trainer's step.
        Assert.Equal(trainer.Select(l => l.LmLoss), bench.Losses);
        Assert.Equal(trainer.Select(l => l.LmLoss), parallel.Losses);
        Assert.Equal(config.Data[0], bench.Data);
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
        // CPU: the peak resident memory above the baseline (Linux /proc), reset before the model. Memory the process freed
        // earlier is reused without growing the resident size (glibc keeps it, Runtime/HostMemory), so in a test process it
        // may be 0; never below, and always read on Linux.
        Assert.Equal(OperatingSystem.IsLinux(), result.Memory.PeakBytes is not null);
        if (OperatingSystem.IsLinux()) Assert.True(result.Memory.PeakBytes >= 0, result.Memory.How);
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
        Assert.False(plain.FusedAdamW);
    }

    [Fact]
    public void RecomputeOptionTrainsTheSameLossesAndReadsHostMemory()
    {
        TrainBenchmarkResult Run(RecomputeMode recompute) => TrainBenchmark.Run(new TrainBenchmarkOptions(TinyModels.Moe, CPU, MicroBatch: 2,
            Sequence: 16, Steps: 3, Warmup: 0, LearningRate: 1e-2, BreakdownSteps: 1, Recompute: recompute));
        var (kept, full) = (Run(RecomputeMode.None), Run(RecomputeMode.Full));
        Assert.Equal(kept.Losses, full.Losses); // bit-exact on the CPU (RecomputeTests)
        Assert.Equal("full", full.Recompute);
        if (OperatingSystem.IsLinux()) Assert.NotNull(full.Memory.PeakBytes);
        // The phase marks still work when the blocks run again in the backward (the recompute is timed as its phases).
        var breakdown = full.Breakdown!;
        Assert.All(breakdown.Phases, p => Assert.True(p.MillisecondsPerStep > 0, $"{p.Phase} took no time"));
        Assert.Equal(breakdown.MillisecondsPerStep, breakdown.Phases.Sum(p => p.MillisecondsPerStep), 6);
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
            ok = CommandRunner.Run(root, [.. common, "--breakdown", "1", "--loss-chunk", "5"]);
            bad = CommandRunner.Run(root, [.. common, "--breakdown", "1", "--breakdown-timer", "sundial"]);
        }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
        Assert.Equal(0, ok);
        var json = stdout.ToString();
        using var doc = JsonDocument.Parse(json[json.IndexOf('{')..(json.LastIndexOf('}') + 1)]);
        Assert.True(doc.RootElement.GetProperty("tokens_per_second").GetDouble() > 0);
        Assert.Equal(5, doc.RootElement.GetProperty("loss_chunk").GetInt32());
        Assert.Equal(7, doc.RootElement.GetProperty("breakdown").GetProperty("phases").GetArrayLength());
        Assert.Equal(2, bad);
        Assert.Contains("sundial", stderr.ToString());
    }
}
