using System.Diagnostics;
using System.Text.Json;
using Flame.Tests.Data;
using Flame.Training;

namespace Flame.Tests.Training;

/// <summary>The crash test: `flame train` as a child process, SIGKILLed at a random step, then resumed.</summary>
public class KillAndResumeTests
{
    static readonly string[] TinyModel =
    [
        "model.layers=2", "model.hidden=32", "model.heads=4", "model.dense_ffn=48", "model.experts=4", "model.top_k=2",
        "model.expert_ffn=16", "model.shared_expert_ffn=32", "model.vocab_size=8192", "model.max_positions=32",
    ];

    static readonly System.Text.StringBuilder Errors = new();

    static Process StartTrain(string runDir, string prefix, long iterations, bool resume = false)
    {
        var flame = Path.Combine(AppContext.BaseDirectory, "flame.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { flame, "train", "--out", runDir, "--set", $"data.path={prefix}", "--set", "data.seq=16",
                     "--set", "training.micro_batch=2", "--set", "training.global_batch=4", "--set", $"training.iterations={iterations}",
                     "--set", "training.log_every=1", "--set", "checkpoints.count=12", "--set", "evaluation.eval_iters=1",
                     "--set", "training.device=cpu" }.Concat(TinyModel.SelectMany(m => new[] { "--set", m })))
            start.ArgumentList.Add(arg);
        if (resume) start.ArgumentList.Add("--resume");
        var process = Process.Start(start)!;
        // Both pipes drained in the background: a full pipe would block the child, and reading stderr to its
        // end inside an assertion message would wait for the child to exit.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (Errors) Errors.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static Dictionary<long, (double Loss, double GradNorm)> TrainingLosses(string runDir) =>
        File.ReadAllLines(Path.Combine(runDir, MetricsSink.FileName)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("lm_loss", out _))
            .ToDictionary(e => e.GetProperty("step").GetInt64(), e => (e.GetProperty("lm_loss").GetDouble(), e.GetProperty("grad_norm").GetDouble()));

    static long LastLoggedStep(string metrics)
    {
        try
        {
            using var stream = new FileStream(metrics, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return lines.Length == 0 ? 0 : JsonDocument.Parse(lines[^1]).RootElement.GetProperty("step").GetInt64();
        }
        catch (Exception e) when (e is IOException or JsonException) { return 0; }
    }

    [Fact]
    public void ASigkilledRunResumesToTheUninterruptedLossesStepByStep()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        const long iterations = 120;
        long killAfter = Random.Shared.Next(10, 100);

        using (var child = StartTrain(dir.File("whole"), prefix, iterations))
        {
            child.WaitForExit();
            Assert.True(child.ExitCode == 0, Errors.ToString());
        }

        using (var child = StartTrain(dir.File("killed"), prefix, iterations))
        {
            var metrics = Path.Combine(dir.File("killed"), MetricsSink.FileName);
            var clock = Stopwatch.StartNew();
            while (!child.HasExited && LastLoggedStep(metrics) < killAfter && clock.Elapsed < TimeSpan.FromSeconds(300)) Thread.Sleep(5);
            Assert.False(child.HasExited, $"the run ended before step {killAfter}: {Errors}");
            Assert.True(LastLoggedStep(metrics) >= killAfter, $"step {killAfter} not reached in 300 s");
            child.Kill(entireProcessTree: true);   // SIGKILL: no handler runs, files are left as they are
            child.WaitForExit();
        }
        long killedAt = LastLoggedStep(Path.Combine(dir.File("killed"), MetricsSink.FileName));
        Assert.True(killedAt < iterations, $"killed after the last step ({killedAt}, aimed at {killAfter})");

        using (var resumed = StartTrain(dir.File("killed"), prefix, iterations, resume: true))
        {
            resumed.WaitForExit();
            Assert.True(resumed.ExitCode == 0, Errors.ToString());
        }

        var whole = TrainingLosses(dir.File("whole"));
        var split = TrainingLosses(dir.File("killed"));
        Assert.Equal(Enumerable.Range(1, (int)iterations).Select(i => (long)i), split.Keys.Order());
        foreach (var (step, expected) in whole)
            Assert.True(expected == split[step], $"step {step} (killed after step {killedAt}): {expected} vs {split[step]}");
    }
}
