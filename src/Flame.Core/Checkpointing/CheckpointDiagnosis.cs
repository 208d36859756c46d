using System.Text.Json;

namespace Flame.Checkpointing;

/// <summary>
/// Why a checkpoint folder is not used, so commands that walk a run's checkpoints (trace, eval
/// --all-checkpoints) name each one they skip instead of passing over it in silence.
/// </summary>
public static class CheckpointDiagnosis
{
    /// <summary>Every checkpoint folder of the run that fails its state or hashes, oldest first, with the reason.</summary>
    public static IReadOnlyList<(string Folder, string Reason)> Invalid(string runDirectory)
    {
        var root = new CheckpointStore(runDirectory).Root;
        if (!Directory.Exists(root)) return [];
        return Directory.GetDirectories(root, "iter_*")
            .Where(d => !d.EndsWith(".tmp", StringComparison.Ordinal) && !Output.TemporaryFiles.IsTemporary(Path.GetFileName(d))).Order(StringComparer.Ordinal)
            .Select(d => (d, WhyInvalid(d))).Where(c => c.Item2 is not null).Select(c => (c.d, c.Item2!)).ToList();
    }

    /// <summary>Null for a checkpoint whose files match state.json, else what is wrong.</summary>
    public static string? WhyInvalid(string folder)
    {
        var statePath = Path.Combine(folder, CheckpointStore.StateFile);
        if (!File.Exists(statePath)) return $"no {CheckpointStore.StateFile} (an interrupted or foreign folder)";
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath)); }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return $"{CheckpointStore.StateFile} is unreadable ({e.Message.Split('\n')[0]})"; }
        if (state is null) return $"{CheckpointStore.StateFile} is empty";
        foreach (var file in state.Sha256.Keys.Order(StringComparer.Ordinal))
            if (!File.Exists(Path.Combine(folder, file))) return $"{file} is missing";
        return CheckpointStore.ReadState(folder) is null ? "a file does not match its SHA-256 in state.json (damaged or changed since it was written)" : null;
    }
}
