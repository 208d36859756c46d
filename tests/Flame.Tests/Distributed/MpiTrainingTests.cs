using System.Diagnostics;
using Flame.Distributed;
using Flame.Tests.Data;
using Flame.Tests.Training;
using Flame.Training;
using static TorchSharp.torch;
using Flame.Checkpointing;

namespace Flame.Tests.Distributed;

/// <summary>The runs the distributed tests compare, each made once: 30 steps of a tiny MoE, global batch 8.</summary>
public sealed class MpiTrainingRuns : IDisposable
{
    public const int Steps = 30;
    readonly TempFolder _dir = new();
    readonly Dictionary<string, string> _outputs = [];
    public string Prefix { get; }

    public MpiTrainingRuns() => Prefix = TrainerTests.WriteCorpus(_dir);

    public string Folder(string name) => _dir.File(name);

    public static readonly string[] Base = [$"training.iterations={Steps}", "checkpoints.interval=10"];

    /// <summary>The run <paramref name="name"/> on <paramref name="ranks"/> ranks with extra settings, made on first use; returns its folder.</summary>
    public string Get(string name, int ranks, params string[] settings)
    {
        lock (_outputs)
        {
            if (!_outputs.ContainsKey(name))
                _outputs[name] = MpiJob.Run(ranks, Folder(name), Prefix, [.. Base, .. settings]);
            return Folder(name);
        }
    }

    public string Output(string name) => _outputs[name];

    public string Single => Get("single", 1);
    public string DataParallel => Get("data2", 2);

    public void Dispose() => _dir.Dispose();
}

public class MpiTrainingTests(MpiTrainingRuns runs) : IClassFixture<MpiTrainingRuns>
{
    static void AssertSameLosses(string expectedRun, string actualRun, double relative, long fromStep = 1)
    {
        var expected = MpiJob.Losses(expectedRun);
        var actual = MpiJob.Losses(actualRun);
        Assert.Equal(Enumerable.Range(1, MpiTrainingRuns.Steps).Select(i => (long)i), actual.Keys);
        foreach (var (step, loss) in expected.Where(kv => kv.Key >= fromStep))
            Assert.True(Math.Abs(actual[step] - loss) <= relative * Math.Abs(loss),
                $"{Path.GetFileName(actualRun)} step {step}: lm_loss {actual[step]:R} vs {Path.GetFileName(expectedRun)} {loss:R}");
    }

    static Dictionary<string, Tensor> Weights(string run, long step)
    {
        var weights = new Dictionary<string, Tensor>();
        TorchSharpStateFiles.ReadModule(Path.Combine(run, "checkpoints", CheckpointStore.FolderName(step), Checkpoint.ModelFile),
            (name, t) => weights[name] = t.clone());
        return weights;
    }

    static void AssertSameWeights(string expectedRun, string actualRun)
    {
        var expected = Weights(expectedRun, MpiTrainingRuns.Steps);
        var actual = Weights(actualRun, MpiTrainingRuns.Steps);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.shape, actual[name].shape);
            double worst = (actual[name] - tensor).abs().max().item<float>();
            Assert.True(actual[name].allclose(tensor, rtol: 1e-5, atol: 1e-5), $"{name}: largest difference {worst:E2}");
        }
    }

    [Fact]
    public void TwoDataParallelRanksTrainAsOneProcess()
    {
        AssertSameLosses(runs.Single, runs.DataParallel, 1e-5);
        AssertSameWeights(runs.Single, runs.DataParallel);
        // Rank 0 alone writes: one line per step, the layout first on the console and recorded in config.toml.
        Assert.StartsWith("2 ranks: data 2 x expert 1", runs.Output("data2").TrimStart('\u001b', '[', '?', '1', 'h', '=', '>'));
        var toml = File.ReadAllText(Path.Combine(runs.DataParallel, "config.toml"));
        Assert.Contains("\nworld = 2\n", toml);
        Assert.Contains("\ndata = 2\n", toml);
        Assert.Contains("\nexpert = 1\n", toml);
        Assert.Equal(["iter_0000010", "iter_0000020", "iter_0000030"],
            Directory.GetDirectories(Path.Combine(runs.DataParallel, "checkpoints")).Select(d => Path.GetFileName(d)!).Order().ToArray());
    }

    [Fact]
    public void TwoExpertParallelRanksTrainAsOneProcess()
    {
        var run = runs.Get("expert2", 2, "parallel.expert=2");
        AssertSameLosses(runs.Single, run, 1e-5);
        AssertSameWeights(runs.Single, run); // rank 0's checkpoint holds all 4 experts of every layer, gathered
        Assert.Contains("2 ranks: data 1 x expert 2", runs.Output("expert2"));
    }

    [Fact]
    public void TheDistributedOptimizerUpdatesAsTheReplicatedOne()
    {
        var run = runs.Get("zero2", 2, "parallel.distributed_optimizer=true");
        AssertSameLosses(runs.DataParallel, run, 1e-6);
        // Its global norm comes from the reduce-scattered shards (each rank's squares, summed over the world): the
        // all-reduced gradients' norm up to fp32 summation order (some steps differ in the last bit), and some steps
        // (22, 29, 30 today) pass the clip norm of 1.0, so the shards are clipped too.
        var norms = MpiJob.Metric(runs.DataParallel, "grad_norm");
        var shardNorms = MpiJob.Metric(run, "grad_norm");
        foreach (var (step, norm) in norms)
            Assert.True(Math.Abs(shardNorms[step] - norm) <= 1e-6 * norm, $"step {step}: grad_norm {shardNorms[step]:R} vs {norm:R}");
        Assert.Contains(norms.Values, norm => norm > 1.0);
        // Each rank keeps AdamW's two moments for half of every flat buffer (4 buffers, each padded to a multiple of 2).
        var said = System.Text.RegularExpressions.Regex.Match(runs.Output("zero2"), @"rank 0 holds\s+([\d,]+)\s+of\s+([\d,]+)\s+AdamW values");
        Assert.True(said.Success, runs.Output("zero2"));
        long shard = long.Parse(said.Groups[1].Value.Replace(",", "")), whole = long.Parse(said.Groups[2].Value.Replace(",", ""));
        Assert.InRange(shard, whole / 2, whole / 2 + 2 * 4);
        // Its checkpoint is the replicated optimizer's, gathered piece by piece: the same bytes. The reduce-scatter adds
        // the same two fp32 values per element as the all-reduce, so the gradients are bit for bit the same; only the
        // norm is summed in another order, and it matters only where it clips, where today's norms agree to the bit.
        // Should a change make a clipping step's norm differ in the last bit, compare within 1e-6 here instead.
        foreach (var file in new[] { Checkpoint.OptimizerFile, Checkpoint.ModelFile })
            Assert.True(File.ReadAllBytes(Path.Combine(runs.DataParallel, "checkpoints", "iter_0000030", file))
                .AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(run, "checkpoints", "iter_0000030", file))), file);
    }

    /// <summary>A copy of a run with only its first checkpoint (step 10) and the metrics up to it, as if stopped there.</summary>
    string StoppedAtTen(string run, string name)
    {
        var copy = runs.Folder(name);
        foreach (var source in Directory.GetFiles(run, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(run, source);
            if (relative.StartsWith("checkpoints/iter_0000020") || relative.StartsWith("checkpoints/iter_0000030")) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(copy, relative))!);
            File.Copy(source, Path.Combine(copy, relative));
        }
        return copy;
    }

    [Fact]
    public void ACheckpointOfTwoRanksResumesOnOneAndTheOtherWayRound()
    {
        var twoToOne = StoppedAtTen(runs.DataParallel, "two-to-one");
        MpiJob.Run(1, twoToOne, runs.Prefix, MpiTrainingRuns.Base, resume: true);
        AssertSameLosses(runs.DataParallel, twoToOne, 1e-5);
        AssertSameWeights(runs.Single, twoToOne);

        var oneToTwo = StoppedAtTen(runs.Single, "one-to-two");
        MpiJob.Run(2, oneToTwo, runs.Prefix, [.. MpiTrainingRuns.Base, "parallel.expert=2", "parallel.distributed_optimizer=true"], resume: true);
        AssertSameLosses(runs.Single, oneToTwo, 1e-5);
        AssertSameWeights(runs.Single, oneToTwo);
    }

    [Fact]
    public void ALostRankStopsTheJobWithItsNameAndTheRunResumesExactly()
    {
        var run = runs.Folder("killed");
        var expected = runs.DataParallel;
        var clock = Stopwatch.StartNew();
        using (var job = MpiJob.Start(2, run, runs.Prefix, MpiTrainingRuns.Base))
        {
            while (!job.Process.HasExited && MpiJob.LastLoggedStep(run) < 12 && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(5);
            Assert.False(job.Process.HasExited, $"the job ended before step 12:\n{job.Output}");
            var victim = job.RankProcess(1) ?? throw new InvalidOperationException($"rank 1's process not found\n{job.Output}");
            using (var rank = Process.GetProcessById(victim)) rank.Kill(); // SIGKILL
            var killed = Stopwatch.StartNew();
            Assert.True(job.Process.WaitForExit(TimeSpan.FromSeconds(60)), $"the job still runs 60 s after rank 1 died:\n{job.Output}");
            job.Process.WaitForExit();
            Assert.NotEqual(0, job.Process.ExitCode);
            Assert.Contains("error: rank 1 of 2 was lost", job.Output);
            Assert.True(killed.Elapsed < TimeSpan.FromSeconds(60));
        }
        var latest = new CheckpointStore(run).Latest();
        Assert.NotNull(latest);
        Assert.True(latest.Value.State.Step >= 10, $"latest checkpoint {latest.Value.State.Step}");

        MpiJob.Run(2, run, runs.Prefix, MpiTrainingRuns.Base, resume: true);
        var resumed = MpiJob.Losses(run);
        foreach (var (step, loss) in MpiJob.Losses(expected))
            Assert.True(resumed[step] == loss, $"step {step}: {resumed[step]:R} after the resume vs {loss:R} uninterrupted");
    }
}
