using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Flame.Training;

namespace Flame.Tests.Distributed;

/// <summary>
/// `flame train` of a tiny model as a child process: alone, or as N ranks under OpenMPI's mpirun (as CI runs it,
/// scripts/test.sh installs openmpi-bin). Output is collected in the background so a full pipe never blocks a rank.
/// </summary>
public sealed class MpiJob : IDisposable
{
    public static readonly string[] TinyRun =
    [
        "model.layers=2", "model.hidden=32", "model.heads=4", "model.dense_ffn=48", "model.experts=4", "model.top_k=2",
        "model.expert_ffn=16", "model.shared_expert_ffn=32", "model.vocab_size=8192", "model.max_positions=32",
        "data.seq=16", "training.micro_batch=2", "training.global_batch=8", "training.log_every=1",
        "evaluation.eval_iters=1", "evaluation.test_iters=1", "training.device=cpu",
    ];

    readonly StringBuilder _output = new();
    public Process Process { get; }
    public string Output { get { lock (_output) return _output.ToString(); } }

    MpiJob(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Starts `flame train` on <paramref name="ranks"/> ranks (1: a plain process, no launcher).</summary>
    public static MpiJob Start(int ranks, string runDir, string prefix, IEnumerable<string> settings, bool resume = false) =>
        StartFlame(ranks, new[] { "train", "--out", runDir, "--set", $"data.path={prefix}" }
            .Concat(TinyRun.Concat(settings).SelectMany(s => new[] { "--set", s }))
            .Concat(resume ? ["--resume"] : []));

    /// <summary>Starts `flame ARGUMENTS` on <paramref name="ranks"/> ranks (1: a plain process, no launcher), one thread each.</summary>
    public static MpiJob StartFlame(int ranks, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(ranks == 1 ? "dotnet" : Mpirun())
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["OMP_NUM_THREADS"] = "1";
        if (ranks > 1)
            foreach (var arg in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "-x", "OMP_NUM_THREADS", "dotnet" })
                start.ArgumentList.Add(arg);
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "flame.dll"));
        foreach (var arg in arguments) start.ArgumentList.Add(arg);
        return new MpiJob(Process.Start(start)!);
    }

    static string Mpirun() =>
        new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("mpirun not found: install OpenMPI (apt-get install openmpi-bin libopenmpi3); scripts/test.sh does it as root");

    /// <summary>Runs a job to the end and requires success; returns what it printed.</summary>
    public static string Run(int ranks, string runDir, string prefix, IEnumerable<string> settings, bool resume = false)
    {
        using var job = Start(ranks, runDir, prefix, settings, resume);
        return job.Finish(runDir);
    }

    /// <summary>Waits up to 5 minutes for the job and requires success; returns what it printed.</summary>
    public string Finish(string what)
    {
        if (!Process.WaitForExit(TimeSpan.FromMinutes(5))) { Process.Kill(entireProcessTree: true); Assert.Fail($"{what}: no end in 5 minutes\n{Output}"); }
        Process.WaitForExit();
        Assert.True(Process.ExitCode == 0, $"{what}: exit {Process.ExitCode}\n{Output}");
        return Output;
    }

    /// <summary>lm_loss per step from a run's metrics.jsonl.</summary>
    public static SortedDictionary<long, double> Losses(string runDir) => Metric(runDir, "lm_loss");

    /// <summary>One per-step value (lm_loss, grad_norm, ...) from a run's metrics.jsonl.</summary>
    public static SortedDictionary<long, double> Metric(string runDir, string name) =>
        new(File.ReadAllLines(Path.Combine(runDir, MetricsSink.FileName)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty(name, out _))
            .ToDictionary(e => e.GetProperty("step").GetInt64(), e => e.GetProperty(name).GetDouble()));

    public static long LastLoggedStep(string runDir)
    {
        try
        {
            using var stream = new FileStream(Path.Combine(runDir, MetricsSink.FileName), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return lines.Length == 0 ? 0 : JsonDocument.Parse(lines[^1]).RootElement.GetProperty("step").GetInt64();
        }
        catch (Exception e) when (e is IOException or JsonException) { return 0; }
    }

    /// <summary>The process ids of the job's ranks (children of mpirun whose environment names the rank).</summary>
    public int? RankProcess(int rank)
    {
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline"));
                if (cmdline.Contains("flame.dll") && environment.Contains($"OMPI_COMM_WORLD_RANK={rank}")
                    && environment.Any(v => v.StartsWith("OMPI_MCA_orte_hnp_uri=", StringComparison.Ordinal) || v.StartsWith("OMPI_", StringComparison.Ordinal))
                    && IsDescendant(pid, Process.Id))
                    return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    static bool IsDescendant(int pid, int ancestor)
    {
        for (int hops = 0; hops < 8 && pid > 1; hops++)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            if (parent == ancestor) return true;
            pid = parent;
        }
        return false;
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
