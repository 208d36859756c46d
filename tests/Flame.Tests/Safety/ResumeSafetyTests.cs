using System.Text.Json;
using Flame.Checkpointing;
using Flame.Cli.Commands;
using Flame.Distributed;
using Flame.Tests.Data;
using Flame.Tests.Distributed;
using Flame.Training;

namespace Flame.Tests.Safety;

/// <summary>
/// Resume means resume: --resume continues the experiment saved in the run folder, refuses what would
/// change what was computed before writing anything, never restarts silently, and repairs what a kill leaves.
/// </summary>
public class ResumeSafetyTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    static void AssertOneLine(string error, params string[] parts)
    {
        Assert.Single(error.Trim().Split('\n'));
        foreach (var part in parts) Assert.Contains(part, error);
    }

    static string Metrics(string run) => Path.Combine(run, MetricsSink.FileName);

    static long[] LoggedSteps(string run, string field = "lm_loss") =>
        File.ReadAllLines(Metrics(run)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty(field, out _)).Select(e => e.GetProperty("step").GetInt64()).ToArray();

    static (long Step, double Loss)[] Losses(string run) =>
        File.ReadAllLines(Metrics(run)).Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.TryGetProperty("lm_loss", out _))
            .Select(e => (e.GetProperty("step").GetInt64(), e.GetProperty("lm_loss").GetDouble())).ToArray();

    static string[] Checkpoints(string run) =>
        Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void ResumeWithAChangedModelShapeIsRefusedBeforeAnyFileIsWritten()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--set", "model.experts=8", "--set", "model.top_k=1"));
        Assert.Equal(2, code);
        AssertOneLine(error, run, "--resume continues the experiment saved in config.toml", "model.experts 4 -> 8", "model.top_k 2 -> 1", "another --out");
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before)); // config.toml, config.json, metrics.jsonl as they were
    }

    [Fact]
    public void ResumeThatChangesDataSeedBatchOrLearningRateNamesEachChangeWithOldAndNewValues()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--set", "data.seq=8", "--set", "training.seed=7",
            "--set", "training.global_batch=8", "--set", "schedule.max_lr=0.01", "--set", "data.path=elsewhere"));
        Assert.Equal(2, code);
        AssertOneLine(error, "data.seq 16 -> 8", "training.seed 1234 -> 7", "training.global_batch 4 -> 8", "schedule.max_lr 0.001 -> 0.01",
            $"data.path {tiny.Prefix} -> elsewhere");
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void ResumeWithFewerIterationsThanDoneIsRefusedWithTheNumbers()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--set", "training.iterations=2"));
        Assert.Equal(2, code);
        AssertOneLine(error, "training.iterations 4 -> 2 (fewer than the 4 steps already done in iter_0000004)");
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void ResumeWithoutAConfigContinuesTheSavedExperimentWithMoreStepsAndItsOwnCadence()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        // No data, model or batch given: all of it comes from the run's config.toml. More steps, a finer log and
        // a smaller micro-batch at the same global batch cannot change what was computed.
        var (code, _, error) = TinyRun.Flame("train", "--out", run, "--resume", "--set", "training.iterations=6",
            "--set", "training.log_every=1", "--set", "training.micro_batch=1");
        Assert.True(code == 0, error);
        Assert.Equal([2L, 4L, 5L, 6L], LoggedSteps(run));
        Assert.Equal(["iter_0000002", "iter_0000004", "iter_0000006"], Checkpoints(run));
        var saved = File.ReadAllText(Path.Combine(run, "config.toml"));
        Assert.Contains("iterations = 6\n", saved);
        Assert.Contains("experts = 4\n", saved);
        Assert.Contains("micro_batch = 1\n", saved);
    }

    [Fact]
    public void ResumeOfADemoDataRunWithItsConfigFileIsNotADataChange()
    {
        using var dir = new TempFolder();
        var run = dir.File("demo");
        // The demo corpus (no data named) is prepared into RUN/data; config.toml then names its prefix and tokenizer "demo".
        var settings = TinyRun.Settings.Select(s => s.Replace("training.iterations=4", "training.iterations=2")).ToArray();
        var (trained, _, trainError) = TinyRun.Flame(["train", "--out", run, .. settings.SelectMany(s => new[] { "--set", s })]);
        Assert.True(trained == 0, trainError);
        Assert.Contains("tokenizer = \"demo\"", File.ReadAllText(Path.Combine(run, "config.toml")));

        // The same experiment as a file, with no data: the demo, the same one the run trained on.
        var config = dir.File("tiny.toml");
        File.WriteAllText(config, string.Join("\n", settings.GroupBy(s => s[..s.IndexOf('.')]).Select(section =>
            $"[{section.Key}]\n" + string.Join("\n", section.Select(s => s[(s.IndexOf('.') + 1)..].Replace("=", " = ").Replace("= cpu", "= \"cpu\""))))) + "\n");
        var (code, _, error) = TinyRun.Flame("train", config, "--out", run, "--resume", "--set", "training.iterations=4");
        Assert.True(code == 0, error);
        Assert.Equal(["iter_0000002", "iter_0000004"], Checkpoints(run));

        var (again, _, againError) = TinyRun.Flame("train", "--out", run, "--resume", "--set", "training.iterations=6");
        Assert.True(again == 0, againError);
        Assert.Equal([2L, 4L, 6L], LoggedSteps(run));
    }

    [Fact]
    public void ResumeWithAConfigFileThatChangesTheSequenceIsRefused()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var config = dir.File("longer.toml");
        File.WriteAllText(config, $"[data]\npath = [\"{tiny.Prefix}\"]\nseq = 32\n");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame("train", config, "--out", run, "--resume");
        Assert.Equal(2, code);
        AssertOneLine(error, "data.seq 16 -> 32", "model.experts 4 -> 64"); // the file's model is the demo preset's, not the run's
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void ResumeWithoutAValidCheckpointListsEachAndWhyAndKeepsTheMetrics()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        File.Delete(Path.Combine(run, "checkpoints", "iter_0000002", CheckpointStore.StateFile));
        File.AppendAllText(Path.Combine(run, "checkpoints", "iter_0000004", "model.bin"), "damage");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume"));
        Assert.Equal(2, code);
        AssertOneLine(error, run, "no valid checkpoint to resume from", "iter_0000002: no state.json",
            "iter_0000004: a file does not match its SHA-256", "drop --resume and add --overwrite");
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before)); // metrics.jsonl is not silently started again
    }

    [Fact]
    public void ResumeOfARunWithNoCheckpointsSaysSoAndTheWayOut()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        Directory.Delete(Path.Combine(run, "checkpoints"), recursive: true);
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume"));
        Assert.Equal(2, code);
        AssertOneLine(error, run, "nothing to resume, no checkpoint was written", "drop --resume and add --overwrite");
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void ResumeIntoAFolderThatDoesNotExistCreatesNothing()
    {
        using var dir = new TempFolder();
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(dir.File("typo"), "--resume"));
        Assert.Equal(2, code);
        AssertOneLine(error, dir.File("typo"), "no such run folder");
        Assert.Empty(dir.Entries());
    }

    [Fact]
    public void ResumeWithOverwriteIsRefusedAsContradictory()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--overwrite"));
        Assert.Equal(2, code);
        AssertOneLine(error, "--resume", "--overwrite", "give one");
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void ATornLastMetricsLineIsDroppedOnResume()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        // What a SIGKILL in the middle of MetricsSink.Write leaves: the start of a record, no newline.
        int torn = File.ReadAllLines(Metrics(run)).Length + 1;
        File.AppendAllText(Metrics(run), "{\"step\":5,\"lm_loss\":9.01");
        var (code, output, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--set", "training.iterations=6"));
        Assert.True(code == 0, error);
        Assert.Contains($"{Metrics(run)}: dropped its torn last line (line {torn},", output);
        Assert.Equal([2L, 4L, 6L], LoggedSteps(run)); // every line parses, the torn step 5 record is gone
    }

    [Fact]
    public void ABadMetricsLineBeforeTheLastIsAnErrorNamingFileAndLine()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var lines = File.ReadAllLines(Metrics(run)).ToList();
        lines.Insert(1, "not json");
        File.WriteAllLines(Metrics(run), lines);
        var metrics = File.ReadAllBytes(Metrics(run));
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--set", "training.iterations=6"));
        Assert.Equal(2, code);
        AssertOneLine(error, $"{Metrics(run)}: line 2 is not a metrics record", "fix or remove that line");
        Assert.Equal(metrics, File.ReadAllBytes(Metrics(run)));
    }

    [Fact]
    public void TheInterruptHintQuotesForTheShellAndKeepsOnlyOverridesAResumeMayRepeat()
    {
        Assert.Equal("flame train --out 'runs/my run' --resume --set training.iterations=50 --set training.device=cuda",
            ResumeHint.Command("train", "runs/my run", ["training.iterations=50", "model.experts=8", "training.device=cuda", "data.path=x"]));
        Assert.Equal("flame run --out 'it'\\''s' --resume --set 'evaluation.tasks=arc_easy, piqa'",
            ResumeHint.Command("run", "it's", ["evaluation.tasks=arc_easy, piqa"]));
    }

    [Fact]
    public void TheInterruptHintContinuesTheRunItInterrupted()
    {
        using var dir = new TempFolder();
        var run = dir.File("run");
        var args = tiny.TrainArgs(run, "--set", "training.iterations=8");
        var (trained, _, trainError) = TinyRun.Flame(args);
        Assert.True(trained == 0, trainError);
        var whole = Losses(run);
        // As if interrupted after step 5: the checkpoints up to 4 on disk, metrics up to 5.
        foreach (var later in new[] { "iter_0000006", "iter_0000008" }) Directory.Delete(Path.Combine(run, "checkpoints", later), recursive: true);
        File.WriteAllLines(Metrics(run), File.ReadAllLines(Metrics(run)).Where(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt64() <= 5));

        var overrides = args.Zip(args.Skip(1)).Where(p => p.First == "--set").Select(p => p.Second).ToList();
        var hint = ResumeHint.Command("train", run, overrides);
        Assert.Contains("--set training.iterations=8", hint);
        Assert.DoesNotContain("model.", hint);
        var (code, _, error) = TinyRun.Flame(hint.Split(' ')[1..]);
        Assert.True(code == 0, error);
        Assert.Equal(whole, Losses(run)); // to step 8, each loss as the uninterrupted run's
    }

    [Fact]
    public void ResumingAnImportedCheckpointStartsAFreshOptimizerAndSaysSo()
    {
        using var dir = new TempFolder();
        var (exported, _, exportError) = TinyRun.Flame("export", "hf", "--run", tiny.Run, "--out", dir.File("hf"), "--no-parity");
        Assert.True(exported == 0, exportError);
        var (imported, _, importError) = TinyRun.Flame("import", "hf", "--model", dir.File("hf"), "--out", dir.File("run"));
        Assert.True(imported == 0, importError);
        var run = dir.File("run");
        var weights = File.ReadAllBytes(Path.Combine(run, "checkpoints", "iter_0000000", Checkpoint.ModelFile));
        Assert.False(File.Exists(Path.Combine(run, "checkpoints", "iter_0000000", Checkpoint.OptimizerFile)));

        var (code, output, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume", "--set", "training.iterations=2"));
        Assert.True(code == 0, error);
        Assert.Contains("iter_0000000 has no optimizer state (imported): AdamW starts fresh\n", output);
        var trained = Path.Combine(run, "checkpoints", "iter_0000002");
        Assert.True(File.Exists(Path.Combine(trained, Checkpoint.OptimizerFile)));
        Assert.NotEqual(weights, File.ReadAllBytes(Path.Combine(trained, Checkpoint.ModelFile)));
        var loss = JsonDocument.Parse(File.ReadAllLines(Metrics(run)).First()).RootElement.GetProperty("lm_loss").GetDouble();
        // It continues from the trained weights: below the untrained model's ln(8192) = 9.01 that a fresh start shows.
        var fresh = JsonDocument.Parse(File.ReadAllLines(Metrics(tiny.Run)).First()).RootElement.GetProperty("lm_loss").GetDouble();
        Assert.True(loss < fresh, $"step 2 loss {loss} after the import vs {fresh} from scratch");
    }

    [Fact]
    public void AnImportedCheckpointResumesOnTwoRanksWithTheDistributedOptimizerAsOnOne()
    {
        // The sharded optimizer's fp32 shards must start from the imported weights, not from the initialisation it was made with.
        using var dir = new TempFolder();
        var prefix = Training.TrainerTests.WriteCorpus(dir);
        string[] settings = ["training.iterations=6", "checkpoints.interval=6"];
        MpiJob.Run(1, dir.File("source"), prefix, settings);
        var (exported, _, exportError) = TinyRun.Flame("export", "hf", "--run", dir.File("source"), "--out", dir.File("hf"), "--no-parity");
        Assert.True(exported == 0, exportError);
        foreach (var name in new[] { "one", "two" })
        {
            var (imported, _, importError) = TinyRun.Flame("import", "hf", "--model", dir.File("hf"), "--out", dir.File(name));
            Assert.True(imported == 0, importError);
        }
        var one = MpiJob.Run(1, dir.File("one"), prefix, settings, resume: true);
        var two = MpiJob.Run(2, dir.File("two"), prefix, [.. settings, "parallel.distributed_optimizer=true"], resume: true);
        Assert.True(one.Contains("iter_0000000 has no optimizer state (imported): AdamW starts fresh\n"), one);
        Assert.Single(two.Split('\n'), line => line.Contains("AdamW starts fresh")); // rank 0 says it, once
        var expected = MpiJob.Losses(dir.File("one"));
        var actual = MpiJob.Losses(dir.File("two"));
        Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), actual.Keys);
        foreach (var (step, loss) in expected)
            Assert.True(Math.Abs(actual[step] - loss) <= 1e-5 * loss, $"step {step}: {actual[step]:R} on two ranks vs {loss:R} on one");
        // Both continue from the trained weights: below the source run's losses from scratch at the same steps.
        Assert.True(expected[1] < MpiJob.Losses(dir.File("source"))[1], $"step 1: {expected[1]} after the import vs {MpiJob.Losses(dir.File("source"))[1]} from scratch");
    }
}
