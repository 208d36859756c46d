using System.Text.Json;
using Flame.Analysis;
using Flame.Benchmarking;
using Flame.Cli.Commands;
using Flame.Distributed;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Distributed;
using Flame.Tests.Safety;
using static TorchSharp.torch;

namespace Flame.Tests.Benchmarking;

/// <summary>`flame bench train --parallel`: the layouts a job can run, timed on two ranks under mpirun and on one process.</summary>
public class ParallelBenchmarkTests
{
    static readonly string[] TinyOverrides =
        ["layers=2", "hidden=32", "heads=4", "dense_ffn=48", "experts=4", "top_k=2", "expert_ffn=16", "shared_expert_ffn=32", "vocab_size=256", "max_positions=32"];

    static readonly string[] TinyModel = ["--preset", "demo", .. TinyOverrides.SelectMany(s => new[] { "--set", s })];

    static readonly string[] Timing = ["--device", "cpu", "--micro-batch", "2", "--accumulation", "2", "--seq", "16", "--steps", "2", "--warmup", "1"];

    [Theory]
    [InlineData(8, 64, new[] { 1, 2, 4, 8 })]
    [InlineData(6, 4, new[] { 1, 2 })]
    [InlineData(12, 6, new[] { 1, 2, 3, 6 })]
    [InlineData(2, 4, new[] { 1, 2 })]
    [InlineData(1, 64, new[] { 1 })]
    [InlineData(4, 0, new[] { 1 })] // a dense model has no experts to split
    [InlineData(32, 64, new[] { 1, 2, 4, 8, 16, 32 })]
    public void ExpertParallelSizesDivideTheWorldAndTheExperts(int world, int experts, int[] expected) =>
        Assert.Equal(expected, ParallelBenchmark.ExpertSizes(world, experts));

    [Fact]
    public void OnTwoRanksEveryLayoutTakesTheTrainersStepsOnATokenFile()
    {
        using var dir = new TempFolder();
        var config = TrainBenchmarkTests.FiveClippedSteps(Flame.Tests.Training.TrainerTests.WriteCorpus(dir)) with { MaxLr = 3e-4, MinLr = 3e-4 };
        var trainer = new Flame.Training.Trainer(config, dir.File("run")).Run(resume: false);
        Assert.Contains(trainer, l => l.GradNorm > config.Optimizer.ClipNorm); // clipping acts
        using var job = MpiJob.StartFlame(2, ["bench", "train", "--parallel", "--preset", "demo", .. config.ModelOverrides.SelectMany(s => new[] { "--set", s }),
            "--device", "cpu", "--micro-batch", "2", "--accumulation", "1", "--seq", "16", "--steps", "5", "--warmup", "0",
            "--data", config.Data[0], "--json"]);
        var output = job.Finish("bench train --parallel --data");
        using var doc = JsonDocument.Parse(output[output.IndexOf('{')..(output.LastIndexOf('}') + 1)]);
        Assert.Equal(config.Data[0], doc.RootElement.GetProperty("data").GetString());
        var layouts = doc.RootElement.GetProperty("layouts").EnumerateArray().ToList();
        Assert.Equal(2, layouts.Count);
        foreach (var l in layouts)
        {
            var losses = l.GetProperty("losses").EnumerateArray().Select(v => v.GetDouble()).ToList();
            // Two ranks (each half the global batch of 4, gradients all-reduced, experts split or not) against one process:
            // different summation orders, so within 1e-5 relative (fp32 rounding over 5 steps, about 100 ulps).
            for (int i = 0; i < 5; i++)
                Assert.True(Math.Abs(losses[i] - trainer[i].LmLoss) <= 1e-5 * trainer[i].LmLoss,
                    $"step {i + 1}, data {l.GetProperty("data")} x expert {l.GetProperty("expert")}: {losses[i]} vs flame train's {trainer[i].LmLoss}");
        }
    }

    [Fact]
    public void TwoRanksUnderMpirunTimeBothLayoutsWithTheSameGlobalBatch()
    {
        using var dir = new TempFolder();
        var csv = dir.File("layouts.csv");
        using var job = MpiJob.StartFlame(2, ["bench", "train", "--parallel", .. TinyModel, .. Timing, "--peak-tflops", "0.01", "--json", "--output", csv]);
        var output = job.Finish("bench train --parallel");
        using var doc = JsonDocument.Parse(output[output.IndexOf('{')..(output.LastIndexOf('}') + 1)]);
        var r = doc.RootElement;
        Assert.Equal(2, r.GetProperty("world").GetInt32());
        Assert.Equal("mpirun", r.GetProperty("launcher").GetString());
        // Global batch: micro 2 x accumulation 2 x 2 ranks = 8 sequences of 16 tokens = 128 tokens per step.
        Assert.Equal(8, r.GetProperty("global_batch").GetInt32());
        var model = ModelOverrides.Apply(ModelPresets.Demo, TinyOverrides).Validate();
        double flopsPerToken = ModelAccounting.Of(model, 16).FlopsPerToken;
        Assert.Equal(flopsPerToken, r.GetProperty("flops_per_token").GetDouble());

        var layouts = r.GetProperty("layouts").EnumerateArray().ToList();
        Assert.Equal([(2, 1), (1, 2)], layouts.Select(l => (l.GetProperty("data").GetInt32(), l.GetProperty("expert").GetInt32())));
        foreach (var l in layouts)
        {
            double seconds = l.GetProperty("seconds_per_step").GetDouble(), tokens = l.GetProperty("tokens_per_second").GetDouble();
            double perDevice = l.GetProperty("tflops_per_device").GetDouble();
            Assert.True(seconds > 0 && tokens > 0 && perDevice > 0, l.ToString());
            Assert.Equal(128 / seconds, tokens, 1e-9 * tokens);
            Assert.Equal(tokens * flopsPerToken / 1e12 / 2, perDevice, 1e-12 * perDevice);
            Assert.Equal(perDevice / 0.01, l.GetProperty("mfu").GetDouble(), 1e-12);
        }
        // The same model and the same 8 sequences per step in both layouts and in one process with 4 micro-batches of 2:
        // how the work is split changes where it runs, not the numbers.
        var single = ParallelBenchmark.Run(new ParallelBenchmarkOptions(new TrainBenchmarkOptions(model, CPU, MicroBatch: 2, Sequence: 16, Accumulation: 4, Steps: 2, Warmup: 1)),
            new LocalCommunicator(), "none");
        Assert.Equal(8, single.GlobalBatch);
        var alone = Assert.Single(single.Layouts);
        foreach (var (name, expected) in new[] { ("first_loss", alone.FirstLoss), ("final_loss", alone.FinalLoss) })
            foreach (var l in layouts)
            {
                double actual = l.GetProperty(name).GetDouble();
                Assert.True(Math.Abs(actual - expected) <= 1e-5 * expected,
                    $"{name}: {actual} with data {l.GetProperty("data")} x expert {l.GetProperty("expert")}, {expected} on one process");
            }
        Assert.True(alone.FinalLoss < alone.FirstLoss, $"training lowers the loss: {alone.FirstLoss} -> {alone.FinalLoss}");

        var rows = CsvRows.Read(csv);
        Assert.Equal(["2", "1"], rows.Select(row => row["data"]));
        Assert.Equal(["1", "2"], rows.Select(row => row["expert"]));
        Assert.All(rows, row => Assert.Equal("8", row["global_batch"]));
        Assert.Equal(layouts.Select(l => l.GetProperty("tokens_per_second").GetDouble()), rows.Select(row => double.Parse(row["tokens_per_s"], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void WithoutALauncherItSaysSoAndTimesTheSingleLayout()
    {
        var (code, stdout, stderr) = CliHarness.Run([BenchCommands.Create()], ["bench", "train", "--parallel", .. TinyModel, .. Timing]);
        Assert.True(code == 0, stderr);
        Assert.StartsWith("no launcher: one process, so the single layout data 1 x expert 1", stdout.TrimStart());
        Assert.Contains("1 x 1", stdout);
        Assert.DoesNotContain("1 x 2", stdout);
        Assert.Contains("global batch 4 = micro 2 x accumulation 2 x 1 ranks", System.Text.RegularExpressions.Regex.Replace(stdout, @"\s+", " "));
    }

    [Fact]
    public void AnExistingOutputIsRefusedBeforeAnyWorkAndLeftAlone()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("mine.csv"), "someone's numbers\n");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, stderr) = CliHarness.Run([BenchCommands.Create()], ["bench", "train", "--parallel", .. TinyModel, .. Timing, "--output", dir.File("mine.csv")]);
        Assert.Equal(2, code);
        Assert.Equal($"error: {dir.File("mine.csv")}: already exists; choose another --output, or add --overwrite to replace it", stderr.Trim());
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));

        (code, _, stderr) = CliHarness.Run([BenchCommands.Create()], ["bench", "train", .. TinyModel, .. Timing, "--output", dir.File("new.csv")]);
        Assert.Equal(2, code);
        Assert.Equal("error: --output and --distributed-optimizer go with --parallel; add it, or leave them out", stderr.Trim());
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }
}
