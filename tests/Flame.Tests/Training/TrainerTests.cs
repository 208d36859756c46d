using System.Text.Json;
using Flame.Checkpointing;
using Flame.Data.Indexed;
using Flame.Tests.Data;
using Flame.Training;

namespace Flame.Tests.Training;

public class TrainerTests
{
    internal static TrainingConfig TinyRun(string prefix) => new()
    {
        Preset = "demo",
        ModelOverrides = ["layers=2", "hidden=32", "heads=4", "dense_ffn=48", "experts=4", "top_k=2", "expert_ffn=16",
            "shared_expert_ffn=32", "vocab_size=8192", "max_positions=32"],
        Data = [prefix], Sequence = 16, MicroBatch = 2, GlobalBatch = 4, Iterations = 6, Checkpoints = 2, SaveInterval = 3,
        LogEvery = 1, EvalIters = 1, TestIters = 1, EvalInterval = 0, Device = "cpu",
    };

    internal static string WriteCorpus(TempFolder dir)
    {
        var prefix = dir.File("tiny");
        var random = new Random(5);
        using var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16);
        // Counting runs from a random start: predictable after the first token, so a model can learn it.
        for (int d = 0; d < 60; d++)
        {
            int start = random.Next(0, 199);
            writer.AddDocument(Enumerable.Range(0, 40).Select(k => (start + k) % 199 + 1).Append(0).ToArray());
        }
        writer.Complete();
        return prefix;
    }

    [Fact]
    public void ResumedRunRepeatsTheUninterruptedLossesExactly()
    {
        using var dir = new TempFolder();
        var config = TinyRun(WriteCorpus(dir));
        var whole = new Trainer(config, dir.File("whole")).Run(resume: false);
        Assert.Equal(6, whole.Count);

        // Stop during step 5: the checkpoint after step 3 is the last one on disk.
        using var cancel = new CancellationTokenSource();
        var interrupted = new Trainer(config, dir.File("split"));
        Assert.Throws<OperationCanceledException>(() =>
            interrupted.Run(resume: false, log => { if (log.Step == 4) cancel.Cancel(); }, cancel.Token));
        var resumed = new Trainer(config, dir.File("split")).Run(resume: true);

        Assert.Equal([4L, 5L, 6L], resumed.Select(l => l.Step));
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(whole[3 + i].LmLoss, resumed[i].LmLoss);
            Assert.Equal(whole[3 + i].GradNorm, resumed[i].GradNorm);
        }
        // metrics.jsonl holds each step once, and validation at the two checkpoints (3 and 6).
        var lines = File.ReadAllLines(interrupted.MetricsPath).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([1L, 2L, 3L, 4L, 5L, 6L], lines.Where(l => l.TryGetProperty("lm_loss", out _)).Select(l => l.GetProperty("step").GetInt64()));
        Assert.Equal([3L, 6L], lines.Where(l => l.TryGetProperty("val_loss", out _)).Select(l => l.GetProperty("step").GetInt64()));
    }

    [Fact]
    public void LossFallsOnATinyCorpus()
    {
        using var dir = new TempFolder();
        var config = TinyRun(WriteCorpus(dir)) with { Iterations = 30, MaxLr = 3e-3, LogEvery = 5, Checkpoints = 1 };
        var logs = new Trainer(config, dir.File("run")).Run(resume: false);
        Assert.True(logs[^1].LmLoss < logs[0].LmLoss - 1.0, $"loss {logs[0].LmLoss} -> {logs[^1].LmLoss}");
    }

    [Fact]
    public void ACorruptNewestCheckpointIsSkipped()
    {
        using var dir = new TempFolder();
        var config = TinyRun(WriteCorpus(dir));
        new Trainer(config, dir.File("run")).Run(resume: false);
        var store = new CheckpointStore(dir.File("run"));
        Assert.Equal(6, store.Latest()!.Value.State.Step);
        var model = Path.Combine(store.Root, CheckpointStore.FolderName(6), "model.bin");
        var bytes = File.ReadAllBytes(model);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(model, bytes);
        Assert.Equal(3, store.Latest()!.Value.State.Step);
    }

    [Fact]
    public void ALoadedCheckpointReproducesTheLoggedValidationLoss()
    {
        using var dir = new TempFolder();
        var prefix = WriteCorpus(dir);
        var config = TinyRun(prefix);
        new Trainer(config, dir.File("run")).Run(resume: false);

        Assert.Equal([3L, 6L], TrainedCheckpoint.List(dir.File("run")).Select(c => c.Step));
        using var checkpoint = TrainedCheckpoint.Load(dir.File("run"));
        Assert.Equal(6, checkpoint.Step);
        Assert.Equal(4, checkpoint.Config.Experts);
        Assert.Equal(dir.File("run/tokenizer.json"), checkpoint.Tokenizer);

        // Megatron's validation (training.py): (6 // 3 + 1) evaluations x eval_iters 1 x global batch 4 = 12 samples,
        // more than one pass over this split holds (7), so it repeats epochs; the evaluation at step 6 is the second,
        // so it scores global batch 1: samples 4..7.
        using var valid = Flame.Data.Samples.DataPath.Parse([prefix])
            .Open(new Flame.Data.Samples.GptSampleOptions(config.Sequence, Flame.Data.Samples.SplitName.Valid, Seed: config.Seed, Samples: 12));
        using (var once = Flame.Data.Samples.DataPath.Parse([prefix]).Open(new Flame.Data.Samples.GptSampleOptions(config.Sequence, Flame.Data.Samples.SplitName.Valid, Seed: config.Seed)))
            Assert.True(once.Count < 12);
        using var noGrad = TorchSharp.torch.no_grad();
        double Loss(SampleIndices indices)
        {
            var tokens = Flame.Data.Samples.SampleBatch.ToTensor(valid, indices.Values, checkpoint.Config.VocabSize);
            return Flame.Model.FlameModel.LanguageModelLoss(checkpoint.Model.forward(tokens[.., ..^1]).Logits, tokens[.., 1..]).item<float>();
        }
        double loss = (Loss(new([4, 5])) + Loss(new([6, 7]))) / 2;
        var lines = File.ReadAllLines(Path.Combine(dir.File("run"), "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var logged = lines.Last(l => l.TryGetProperty("val_loss", out _)).GetProperty("val_loss").GetDouble();
        Assert.Equal(logged, loss, 1e-5); // the trainer's evaluation vs this forward, averaged in another order: ~10 fp32 ulps of a loss of ~9
        // The first evaluation (step 3) scored samples 0..3, so the two logged losses are of different samples.
        Assert.NotEqual(logged, lines.First(l => l.TryGetProperty("val_loss", out _)).GetProperty("val_loss").GetDouble());

        // The test split once at the end: test_iters 1 global batch = the first 4 samples of one pass over it.
        using var test = Flame.Data.Samples.DataPath.Parse([prefix])
            .Open(new Flame.Data.Samples.GptSampleOptions(config.Sequence, Flame.Data.Samples.SplitName.Test, Seed: config.Seed));
        var testTokens = Flame.Data.Samples.SampleBatch.ToTensor(test, [0, 1, 2, 3], checkpoint.Config.VocabSize);
        double testLoss = Flame.Model.FlameModel.LanguageModelLoss(checkpoint.Model.forward(testTokens[.., ..^1]).Logits, testTokens[.., 1..]).item<float>();
        var testLine = Assert.Single(lines, l => l.TryGetProperty("test_loss", out _));
        Assert.Equal(6, testLine.GetProperty("step").GetInt64());
        Assert.Equal(testLoss, testLine.GetProperty("test_loss").GetDouble(), 1e-5); // as above: ~10 fp32 ulps
    }

    internal readonly record struct SampleIndices(long[] Values);

    [Fact]
    public void ANonFiniteLossStopsTheRunNamingTheStepAndKeepsTheLastCheckpoint()
    {
        using var dir = new TempFolder();
        // An absurd learning rate sends the weights to infinity within a few steps.
        var config = TinyRun(WriteCorpus(dir)) with { Iterations = 40, Checkpoints = 40, SaveInterval = 0, MaxLr = 1e30, WarmupFraction = 0 };
        var error = Assert.Throws<UserError>(() => new Trainer(config, dir.File("run")).Run(resume: false));
        Assert.Matches(@"non-finite (loss|gradient norm|weights)( and [a-z ]+)* at step (\d+)", error.Message);
        long failedAt = long.Parse(System.Text.RegularExpressions.Regex.Match(error.Message, @"step (\d+)").Groups[1].Value);
        var latest = new CheckpointStore(dir.File("run")).Latest();
        Assert.NotNull(latest);
        Assert.Equal(failedAt - 1, latest.Value.State.Step);
        Assert.Contains(latest.Value.Folder, error.Message);
    }
}
