using System.CommandLine;
using Flame.Cli.Commands;
using Flame.Tests.Data;
using Flame.Tests.Training;

namespace Flame.Tests.Safety;

/// <summary>
/// One tiny run trained once through `flame train` (checkpoints at steps 2 and 4, its marker written), shared by the
/// folder-safety tests; tests that change a run work on a copy.
/// </summary>
public sealed class TinyRun : IDisposable
{
    readonly TempFolder _dir = new();
    public string Prefix { get; }
    public string Run { get; }

    public static readonly string[] Settings =
    [
        "data.seq=16", "training.micro_batch=2", "training.global_batch=4", "training.iterations=4", "training.device=cpu",
        "training.log_every=2", "checkpoints.count=2", "checkpoints.interval=2", "evaluation.eval_iters=1", "model.layers=2",
        "model.hidden=32", "model.heads=4", "model.dense_ffn=48", "model.experts=4", "model.top_k=2", "model.expert_ffn=16",
        "model.shared_expert_ffn=32", "model.vocab_size=8192", "model.max_positions=32",
    ];

    public TinyRun()
    {
        Prefix = TrainerTests.WriteCorpus(_dir);
        Run = _dir.File("run");
        var (code, _, error) = Flame(TrainArgs(Run));
        if (code != 0) throw new InvalidOperationException(error);
    }

    /// <summary>`flame train --out RUN` with the tiny settings, then <paramref name="extra"/>.</summary>
    public string[] TrainArgs(string run, params string[] extra) =>
        ["train", "--out", run, "--set", $"data.path={Prefix}", .. Settings.SelectMany(s => new[] { "--set", s }), .. extra];

    public static (int Code, string Out, string Err) Flame(params string[] args) =>
        CliHarness.Run([RunCommands.Create(), RunCommands.CreateTrain(), TraceCommands.Create(), AnalyzeCommands.Create(),
                        ImportCommands.Create(), ExportCommands.Create()], args);

    /// <summary>A copy of the run (every file, the marker included) under <paramref name="destination"/>.</summary>
    public string CopyTo(string destination)
    {
        foreach (var source in Directory.GetFiles(Run, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(Run, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target);
        }
        return destination;
    }

    public void Dispose() => _dir.Dispose();
}
