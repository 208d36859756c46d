using System.Security.Cryptography;
using System.Text.Json;
using Flame.Output;

namespace Flame.Checkpointing;

/// <summary>What a checkpoint records beside its tensors.</summary>
public sealed record CheckpointState(long Step, string ConfigJson, Dictionary<string, string> Sha256);

/// <summary>
/// Checkpoints as folders run/checkpoints/iter_NNNNNNN. Each is written into a temporary folder (iter_N.tmp-PID), its files
/// flushed and hashed, then renamed into place, so a crash while writing never leaves a folder that looks
/// complete; <see cref="Latest"/> skips any folder whose files do not match their recorded SHA-256.
/// </summary>
public sealed class CheckpointStore(string runDirectory)
{
    public const string StateFile = RunFiles.Name.CheckpointState;
    public string Root { get; } = RunFiles.Checkpoints(runDirectory);

    public static string FolderName(long step) => $"iter_{step:D7}";

    /// <summary>Writes a checkpoint; <paramref name="writeFiles"/> fills the given folder with tensor files.</summary>
    public string Save(long step, string configJson, Action<string> writeFiles)
    {
        try { return Write(step, configJson, writeFiles); }
        catch (Exception e) when (Flame.Failures.IoFailure.IsDiskFull(e))
        {
            throw CheckpointDiskFull.Error(this, Output.TemporaryFiles.For(Path.Combine(Root, FolderName(step))), step, e);
        }
    }

    string Write(long step, string configJson, Action<string> writeFiles)
    {
        Directory.CreateDirectory(Root);
        var final = Path.Combine(Root, FolderName(step));
        Output.TemporaryFiles.RemoveAbandoned(Root, "iter_"); // checkpoints a killed process left half-written
        var temp = Output.TemporaryFiles.For(final);
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        try { writeFiles(temp); }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
        var hashes = new Dictionary<string, string>();
        foreach (var file in Directory.GetFiles(temp).OrderBy(f => f, StringComparer.Ordinal))
        {
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite)) stream.Flush(flushToDisk: true);
            hashes[Path.GetFileName(file)] = Hash(file);
        }
        var state = new CheckpointState(step, configJson, hashes);
        var statePath = Path.Combine(temp, StateFile);
        using (var stream = new FileStream(statePath, FileMode.CreateNew))
        {
            JsonSerializer.Serialize(stream, state);
            stream.Flush(flushToDisk: true);
        }
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temp, final);
        return final;
    }

    /// <summary>The newest checkpoint whose files all match their hashes, or null.</summary>
    public (string Folder, CheckpointState State)? Latest()
    {
        foreach (var folder in Folders().Reverse())
        {
            var state = ReadState(folder);
            if (state is not null) return (folder, state);
        }
        return null;
    }

    /// <summary>Every checkpoint whose files match their hashes, oldest first.</summary>
    public IEnumerable<(string Folder, CheckpointState State)> All() =>
        Folders().Select(f => (f, ReadState(f))).Where(c => c.Item2 is not null).Select(c => (c.f, c.Item2!));

    IEnumerable<string> Folders() => !Directory.Exists(Root) ? []
        : Directory.GetDirectories(Root, "iter_*").Where(d => !d.EndsWith(".tmp") && !Output.TemporaryFiles.IsTemporary(Path.GetFileName(d))).OrderBy(d => d, StringComparer.Ordinal);

    /// <summary>The state of a checkpoint folder, or null when it is missing, unreadable or fails its hashes.</summary>
    public static CheckpointState? ReadState(string folder)
    {
        try
        {
            var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(folder, StateFile)));
            if (state is null) return null;
            foreach (var (file, hash) in state.Sha256)
            {
                var path = Path.Combine(folder, file);
                if (!File.Exists(path) || Hash(path) != hash) return null;
            }
            return state;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream));
    }
}
