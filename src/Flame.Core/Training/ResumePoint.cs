namespace Flame.Training;

/// <summary>
/// The checkpoint a `--resume` continues from: the newest one whose files match their hashes. None is an error that
/// names what the run folder holds and why each is unusable (issue 15, "Resume means resume"), never a silent
/// fresh start that would replace metrics.jsonl.
/// </summary>
public sealed record ResumePoint(string Folder, CheckpointState State)
{
    public long Step => State.Step;

    /// <summary>Whether the checkpoint holds AdamW's moments; `flame import hf|megatron` write none.</summary>
    public bool HasOptimizerState => File.Exists(Path.Combine(Folder, Distributed.ParallelOptimizer.FileName));

    /// <summary>What the console says when training continues from a checkpoint without optimizer state.</summary>
    public string FreshOptimizerNote => $"{Path.GetFileName(Folder)} has no optimizer state (imported): AdamW starts fresh";

    public static ResumePoint Find(string runDirectory)
    {
        const string startAgain = "drop --resume and add --overwrite to start the run again";
        if (!Directory.Exists(runDirectory))
            throw new UserError($"{runDirectory}: no such run folder, nothing to resume; check the path, or drop --resume to start a run there");
        if (new CheckpointStore(runDirectory).Latest() is { } latest) return new(latest.Folder, latest.State);
        var invalid = CheckpointDiagnosis.Invalid(runDirectory);
        if (invalid.Count == 0)
            throw new UserError($"{runDirectory}: nothing to resume, no checkpoint was written (checkpoints/ holds none); {startAgain}");
        var found = string.Join("; ", invalid.Select(c => $"{Path.GetFileName(c.Folder)}: {c.Reason}"));
        throw new UserError($"{runDirectory}: no valid checkpoint to resume from ({found}); restore one, or {startAgain}");
    }
}
