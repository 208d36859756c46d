namespace Flame.Output;

/// <summary>
/// `flame run|train --out RUN`: the run folder rule on top of <see cref="OutputFolder"/>. A folder that already holds
/// checkpoints is continued only with --resume (or replaced with --overwrite): a fresh run beside old checkpoints
/// would leave a chimera whose newest checkpoint is the old run's. The folder stays locked while the process lives.
/// </summary>
public static class RunFolder
{
    /// <param name="demoData">the run prepares the demo corpus into RUN/data, which --overwrite then also removes.</param>
    public static RunLock Claim(string folder, string command, bool resume, bool overwrite, bool demoData, Action<string>? say = null)
    {
        var kind = demoData ? OutputKind.Run with { Owns = [.. OutputKind.Run.Owns, RunFiles.Name.Data] } : OutputKind.Run;
        var owner = OutputFolder.OwnerOf(folder, kind);
        if (resume && !overwrite) RequireResumable(folder);
        if (owner == FolderOwner.Foreign && !overwrite) throw OutputFolder.Refusal(folder, kind, "--out"); // before the lock adds a file
        // Lock before looking at checkpoints, so that what is checked is what this process then writes into.
        var held = RunLock.Acquire(folder, command);
        try
        {
            if (owner == FolderOwner.Ours && !resume && Checkpoints(folder) is { Count: > 0 } found)
            {
                if (!overwrite)
                    throw new UserError($"{folder}: already holds a run (checkpoints up to {found[^1]}); continue it with --resume, " +
                                        $"start it again with --overwrite (removes {string.Join(", ", kind.Owns)}), or choose a new --out");
                OutputFolder.RemoveOwned(folder, kind, say);
            }
            OutputFolder.Claim(folder, kind, command, "--out", overwrite, say);
            return held;
        }
        catch
        {
            held.Dispose();
            if (owner == FolderOwner.New) OutputFolder.DeleteIfOnlyBookkeeping(folder);
            throw;
        }
    }

    /// <summary>--resume continues only a Flame run folder (or a new one, which <see cref="Training.ResumePoint"/> refuses).</summary>
    public static void RequireResumable(string folder)
    {
        if (OutputFolder.OwnerOf(folder, OutputKind.Run) == FolderOwner.Foreign)
            throw new UserError($"{folder}: --resume needs a Flame run folder, and this one {(OutputMarker.Read(folder) is { } m ? $"holds a Flame {m.Kind} output" : "was not written by Flame")}; check the path");
    }

    static List<string> Checkpoints(string folder)
    {
        var root = RunFiles.Checkpoints(folder);
        return !Directory.Exists(root) ? []
            : Directory.GetDirectories(root, "iter_*").Select(path => Path.GetFileName(path)).Where(n => !TemporaryFiles.IsTemporary(n) && !n.EndsWith(".tmp")).Order(StringComparer.Ordinal).ToList();
    }
}
