using System.Diagnostics;
using Flame.Checkpointing;
using Flame.Distributed;
using Flame.Optimization;
using Flame.Tests.Data;
using Flame.Tests.Training;
using Flame.Training;
using static TorchSharp.torch;

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
    public void FullRecomputeOnTwoExpertParallelRanksTrainsAsWithout()
    {
        // The recomputed blocks' all-to-alls run again inside the backward, in the same order on both ranks.
        var run = runs.Get("expert2-recompute", 2, "parallel.expert=2", "training.recompute=full");
        // Relative 1e-6 on every step's lm loss: the recompute repeats the same CPU kernels, so the runs should agree to rounding.
        AssertSameLosses(runs.Get("expert2", 2, "parallel.expert=2"), run, 1e-6);
        AssertSameWeights(runs.Single, run);
    }

    [Fact]
    public void SelectiveRecomputeOnTwoExpertParallelRanksTrainsAsWithout()
    {
        // Only local ops are recomputed (the experts' SwiGLU between the all-to-alls, the norms, the attention core).
        var run = runs.Get("expert2-selective", 2, "parallel.expert=2", "training.recompute=selective");
        // Relative 1e-6 on every step's lm loss: the gradients agree to rounding (a few sums run in another order).
        AssertSameLosses(runs.Get("expert2", 2, "parallel.expert=2"), run, 1e-6);
        AssertSameWeights(runs.Single, run);
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
        // Its checkpoint is the replicated optimizer's, gathered piece by piece, in the same format and order. The two are
        // different computations (the norm, and so the clipped steps, are summed in another order; the reduce-scatter and
        // the all-reduce may add in another order too, which depends on the SIMD width), so the numbers are compared
        // within the agreement the losses and norms show above, not byte for byte.
        AssertSameWeights(runs.DataParallel, run);
        var replicated = OptimizerState(runs.DataParallel, MpiTrainingRuns.Steps);
        var sharded = OptimizerState(run, MpiTrainingRuns.Steps);
        // The hyperparameters (lr from the schedule, betas, eps, weight decay) are the same scalars, not sums: exact.
        Assert.Equal(replicated.Groups, sharded.Groups);
        Assert.Equal(replicated.States.Count, sharded.States.Count);
        var earlier = OptimizerState(runs.DataParallel, 20);
        for (int i = 0; i < replicated.States.Count; i++)
        {
            var (expected, actual, before) = (replicated.States[i], sharded.States[i], earlier.States[i]);
            Assert.Equal(MpiTrainingRuns.Steps, expected.Step);
            Assert.Equal(expected.Step, actual.Step);
            foreach (var (what, e, a, b) in new[] { ("exp_avg", expected.ExpAvg, actual.ExpAvg, before.ExpAvg), ("exp_avg_sq", expected.ExpAvgSq, actual.ExpAvgSq, before.ExpAvgSq) })
            {
                Assert.Equal(e.shape, a.shape);
                // Not a fresh optimizer's zeros, and ten steps earlier it differed beyond the tolerance: the compare can fail.
                Assert.True(e.abs().max().item<float>() > 0, $"state {i} {what} is all zero");
                Assert.False(SameMoments(e, b), $"state {i} {what} did not change from step 20 to 30");
                double worst = ((a - e).abs() / (e.abs() + 1e-30)).max().item<float>();
                Assert.True(SameMoments(e, a), $"state {i} {what}: the sharded optimizer's differs (largest relative difference {worst:E2})");
            }
        }
    }

    /// <summary>
    /// AdamW moments within rtol 1e-5 and an atol of 1e-5 of the tensor's largest magnitude. The two runs' gradients agree to
    /// fp32 summation order (losses and norms within 1e-6 above); the moments are averages of those gradients (and of their
    /// squares), so 1e-5 leaves ten times that for 30 steps of drift (on a 2-core AVX-512 EPYC every moment tensor differs, by
    /// at most 4.4e-7 of its largest magnitude, while from step 20 to 30 each moved by 0.26 of it or more). The atol scales with
    /// the tensor because exp_avg_sq is a squared gradient (1e-10 and less), where a fixed atol such as 1e-6 would accept
    /// anything; elements near zero (exp_avg changing sign) differ by up to 4e-3 of themselves, which the atol covers.
    /// </summary>
    static bool SameMoments(Tensor expected, Tensor actual) =>
        actual.allclose(expected, rtol: 1e-5, atol: 1e-5 * expected.abs().max().item<float>());

    /// <summary>A checkpoint's AdamW file read back: each group's hyperparameters (as bytes) and each parameter's step and moments.</summary>
    static (List<string> Groups, List<(long Step, Tensor ExpAvg, Tensor ExpAvgSq)> States) OptimizerState(string run, long step)
    {
        var path = Path.Combine(run, "checkpoints", CheckpointStore.FolderName(step), Checkpoint.OptimizerFile);
        long groupCount, stateCount;
        using (var header = new BinaryReader(File.OpenRead(path)))
        {
            header.ReadString();
            (groupCount, stateCount) = (Leb128(header), Leb128(header));
        }
        // Options objects to load the groups into: an AdamW of Flame's two groups (decaying matrices, non-decaying vectors).
        using var matrix = new TorchSharp.Modules.Parameter(zeros(2, 2));
        using var vector = new TorchSharp.Modules.Parameter(zeros(2));
        using var adam = OptimizerFactory.Create([("m", matrix), ("v", vector)], new OptimizerSettings(), 0.0);
        var options = adam.state_dict().Options;
        Assert.Equal((int)groupCount, options.Count);
        var states = new List<(long, Tensor, Tensor)>();
        TorchSharpStateFiles.ReadAdamW(path, options, (int)stateCount, (i, s, m, v) => states.Add((s, m.clone(), v.clone())));
        var groups = options.Select(o =>
        {
            using var bytes = new MemoryStream();
            using (var writer = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true)) o.SaveStateDict(writer);
            return Convert.ToHexString(bytes.ToArray());
        }).ToList();
        return (groups, states);
    }

    static long Leb128(BinaryReader reader)
    {
        long result = 0;
        for (int shift = 0; ; shift += 7)
        {
            long b = reader.ReadByte();
            result |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
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
