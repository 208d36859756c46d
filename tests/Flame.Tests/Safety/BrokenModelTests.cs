using System.Text.RegularExpressions;
using Flame.Checkpointing;
using Flame.Tests.Data;
using Flame.Tests.Training;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Safety;

/// <summary>Never save a broken model: a diverging run stops before writing a non-finite checkpoint.</summary>
public class BrokenModelTests
{
    static bool AllFinite(string checkpointFolder)
    {
        using var checkpoint = TrainedCheckpoint.Load(checkpointFolder);
        return checkpoint.Model.parameters().All(p => isfinite(p).all().item<bool>());
    }

    [Fact]
    public void ADivergingRunWritesOnlyFiniteCheckpointsAndNamesTheLastGoodOne()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        var run = dir.File("run");
        // lr 0 on the first step (Megatron's warmup starts at 0), then 1e30 x k/3: the first checkpoint is the
        // initial model, the next steps send the weights past fp32's range. Logging every 5 steps, as in the issue,
        // where checkpoints 2 and 4 were written NaN before the log at step 5 noticed.
        string[] args = ["train", "--out", run, "--set", $"data.path={prefix}", .. TinyRun.Settings.SelectMany(s => new[] { "--set", s }),
            "--set", "training.iterations=8", "--set", "checkpoints.count=8", "--set", "checkpoints.interval=1",
            "--set", "training.log_every=5", "--set", "schedule.max_lr=1e30", "--set", "schedule.warmup_fraction=0.375"];
        var (code, _, err) = TinyRun.Flame(args);

        Assert.Equal(2, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var match = Regex.Match(line, @"non-finite (.+) at step (\d+); stopped without writing a checkpoint; the last good checkpoint is (\S+) ");
        Assert.True(match.Success, line);
        long failedAt = long.Parse(match.Groups[2].Value);
        var checkpoints = TrainedCheckpoint.List(run);
        Assert.NotEmpty(checkpoints);
        Assert.All(checkpoints, c => Assert.True(AllFinite(c.Folder), $"{c.Folder} holds a non-finite weight"));
        Assert.Equal(checkpoints[^1].Folder, match.Groups[3].Value);
        Assert.True(checkpoints[^1].Step < failedAt);
        Assert.DoesNotContain(checkpoints, c => c.Step >= failedAt);

        // The commands that read a run take that finite checkpoint.
        var (generated, text, generateError) = CliHarness.Run([Flame.Cli.Commands.GenerateCommands.Create()], "generate", "--run", run, "--prompt", "The jury", "--max-tokens", "3", "--temperature", "0");
        Assert.True(generated == 0, generateError);
        Assert.StartsWith("The jury", text);
        var (exported, _, exportError) = TinyRun.Flame("export", "hf", "--run", run, "--out", dir.File("hf"), "--no-parity");
        Assert.True(exported == 0, exportError);
    }

    [Fact]
    public void ANonFiniteValidationLossStopsTheRunBeforeTheNextCheckpoint()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        var run = dir.File("run");
        // Validation every step, checkpoints at 4 and 8, no log before step 8: only validation sees the overflow.
        string[] args = ["train", "--out", run, "--set", $"data.path={prefix}", .. TinyRun.Settings.SelectMany(s => new[] { "--set", s }),
            "--set", "training.iterations=8", "--set", "checkpoints.count=2", "--set", "checkpoints.interval=4", "--set", "evaluation.interval=1",
            "--set", "training.log_every=8", "--set", "schedule.max_lr=1e30", "--set", "schedule.warmup_fraction=0.375"];
        var (code, _, err) = TinyRun.Flame(args);

        Assert.Equal(2, code);
        Assert.Matches(@"^error: non-finite validation loss at step [23]; stopped without writing a checkpoint; the last good checkpoint is none \(none was written yet\)", err);
        Assert.Empty(TrainedCheckpoint.List(run));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")));
    }

    [Fact]
    public void AModelThatCannotFitInMemoryIsRefusedWithTheEstimateBeforeItAllocates()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        var run = dir.File("run");
        // flame-moe-38m has 8 MoE layers of hidden 256 and expert width 176: 100000 experts are 8 x 100000 x 3 x 256 x 176
        // = 108,134,400,000 expert parameters, x 16 bytes (fp32 weights, gradients, AdamW's two moments) = 1.73 TB of state.
        var model = Flame.Model.ModelOverrides.Apply(Flame.Model.ModelPresets.Get("flame-moe-38m"), ["experts=100000"]);
        Assert.Equal(108_134_400_000, Flame.Model.ModelAccounting.RoutedExpertParameterCount(model));
        var plan = Flame.Memory.MemoryPlanner.Plan(new Flame.Memory.MemoryRequest(model, 2, 16, Bf16: false, Flame.Distributed.ParallelLayout.Single, Cpu: true));
        Assert.Equal(16L * Flame.Model.ModelAccounting.Of(model).TotalParams, plan.StateBytes);
        double expected = plan.TotalBytes;
        // 16 bytes a parameter of state, plus the clip's square of the largest gradient (a layer's experts' gate_up,
        // 100000 x 256 x 352 x 4 = 36 GB), counted twice on the CPU's kept heap, plus small activations.
        Assert.InRange(expected, 1.80e12, 1.82e12);

        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, err) = TinyRun.Flame("train", "--out", run, "--set", $"data.path={prefix}", "--set", "model.preset=flame-moe-38m",
            "--set", "model.experts=100000", "--set", "data.seq=16", "--set", "training.micro_batch=2", "--set", "training.global_batch=4",
            "--set", "training.iterations=2", "--set", "training.device=cpu");

        Assert.Equal(2, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"needs {(expected / 1e9).ToString("N1", System.Globalization.CultureInfo.InvariantCulture)} GB per rank", line);
        Assert.Contains("GB short", line);
        Assert.Contains("100000 experts", line);
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")));
        Assert.False(File.Exists(Path.Combine(run, "config.json")));
        // Only what claiming the run folder and recording the experiment wrote, inside the run folder.
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before, "run"));
        Assert.Subset(new HashSet<string> { Flame.Output.OutputMarker.FileName, Flame.Output.OutputFolder.LockFile, Flame.Output.OutputFolder.LockHolderFile,
            Flame.Experiments.ExperimentConfigFile.ResolvedFileName }, Directory.GetFileSystemEntries(run).Select(Path.GetFileName).ToHashSet()!);
    }

    [Fact]
    public void TheFiniteCheckNamesWhatIsNotFiniteAndPassesAFiniteStep()
    {
        using var dir = new TempFolder();
        var store = new CheckpointStore(dir.Path);
        using var parallel = Flame.Distributed.ProcessGroups.Local();
        using var model = new Flame.Model.FlameModel(Flame.Tests.Model.TinyModels.Moe);
        var loss = tensor(2.5f);
        var norm = tensor(0.7f);
        FiniteCheck.Require([loss, loss, loss], norm, model.parameters(), parallel, 3, store); // all finite: no throw

        string Message(Tensor l, Tensor n) =>
            Assert.Throws<UserError>(() => FiniteCheck.Require([loss, l, loss], n, model.parameters(), parallel, 4, store)).Message;
        Assert.StartsWith("non-finite loss at step 4; stopped without writing a checkpoint; the last good checkpoint is none", Message(tensor(float.NaN), norm));
        Assert.StartsWith("non-finite gradient norm at step 4;", Message(loss, tensor(float.PositiveInfinity)));

        store.Save(3, "{}", folder => File.WriteAllText(Path.Combine(folder, "model.bin"), "x"));
        using (no_grad()) model.parameters().Last()[0].fill_(float.NegativeInfinity); // one value of one weight
        Assert.StartsWith($"non-finite gradient norm and weights at step 4; stopped without writing a checkpoint; the last good checkpoint is {Path.Combine(store.Root, "iter_0000003")} ",
            Message(loss, tensor(float.NaN)));
    }
}
