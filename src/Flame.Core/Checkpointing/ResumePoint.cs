namespace Flame.Checkpointing;

/// <summary>
/// The checkpoint a `--resume` continues from: the newest one whose files match their hashes. None is an error that
/// names what the run folder holds and why each is unusable, never a silent
/// fresh start that would replace metrics.jsonl.
/// </summary>
public sealed record ResumePoint(string Folder, CheckpointState State)
{
    public long Step => State.Step;

    /// <summary>Whether the checkpoint holds AdamW's moments; `flame import hf|megatron` write none.</summary>
    public bool HasOptimizerState => File.Exists(Path.Combine(Folder, Checkpoint.OptimizerFile));

    /// <summary>What the console says when training continues from a checkpoint without optimizer state.</summary>
    public string FreshOptimizerNote => $"{Path.GetFileName(Folder)} has no optimizer state (imported): AdamW starts fresh";

    public static ResumePoint Find(string runDirectory)
    {
        const string startAgain = "drop --resume and add --overwrite to start the run again";
        if (!Directory.Exists(runDirectory))
            throw new UserError($"{runDirectory}: no such run folder, nothing to resume; check the path, or drop --resume to start a run there");
        // `--resume` looks once before the run folder is locked (to refuse before writing) and the trainer again after;
        // the second look reuses the first's hashing of a possibly many-GB checkpoint unless the folder changed meanwhile.
        var stamp = Stamp(runDirectory);
        if (_verified is { } seen && seen.Stamp == stamp) return seen.Point;
        if (new CheckpointStore(runDirectory).Latest() is { } latest)
        {
            var point = new ResumePoint(latest.Folder, latest.State);
            _verified = (stamp, point);
            return point;
        }
        var invalid = CheckpointDiagnosis.Invalid(runDirectory);
        if (invalid.Count == 0)
            throw new UserError($"{runDirectory}: nothing to resume, no checkpoint was written (checkpoints/ holds none); {startAgain}");
        var found = string.Join("; ", invalid.Select(c => $"{Path.GetFileName(c.Folder)}: {c.Reason}"));
        throw new UserError($"{runDirectory}: no valid checkpoint to resume from ({found}); restore one, or {startAgain}");
    }

    static (string Stamp, ResumePoint Point)? _verified;

    /// <summary>Every checkpoint folder's files with their sizes and write times: any checkpoint written, removed or touched changes it.</summary>
    static string Stamp(string runDirectory)
    {
        var root = new DirectoryInfo(Output.RunFiles.Checkpoints(Path.GetFullPath(runDirectory)));
        if (!root.Exists) return root.FullName;
        return root.FullName + "\n" + string.Join("\n", root.EnumerateFiles("*", SearchOption.AllDirectories)
            .Select(f => $"{f.FullName} {f.Length} {f.LastWriteTimeUtc.Ticks}").Order(StringComparer.Ordinal));
    }
}
