using System.Security.Cryptography;

namespace Flame.Tests.Safety;

/// <summary>
/// Every file under a folder with its SHA-256, and every folder, taken before and after a command, so a test
/// can assert that nothing it did not own changed (no file outside the command's own output changed).
/// Symlinks are recorded by their target, never followed; a run's lock file by its presence (it is empty).
/// </summary>
public sealed record FolderSnapshot(IReadOnlyDictionary<string, string> Entries)
{
    public static FolderSnapshot Of(string root)
    {
        var entries = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(new DirectoryInfo(root), root, entries);
        return new(entries);
    }

    static void Walk(DirectoryInfo folder, string root, SortedDictionary<string, string> entries)
    {
        foreach (var entry in folder.EnumerateFileSystemInfos())
        {
            string relative = Path.GetRelativePath(root, entry.FullName);
            if (entry.LinkTarget is { } target) entries[relative] = "link -> " + target;
            else if (entry.Name == Flame.Output.OutputFolder.LockFile) entries[relative] = "lock"; // empty, and unreadable while held
            else if (entry is DirectoryInfo sub) { entries[relative + "/"] = "folder"; Walk(sub, root, entries); }
            else entries[relative] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(entry.FullName)));
        }
    }

    /// <summary>What differs from <paramref name="before"/>: added, removed and changed paths, empty when equal.</summary>
    public IReadOnlyList<string> ChangesSince(FolderSnapshot before)
    {
        var changes = new List<string>();
        foreach (var (path, hash) in before.Entries)
            if (!Entries.TryGetValue(path, out var now)) changes.Add("removed " + path);
            else if (now != hash) changes.Add("changed " + path);
        foreach (var path in Entries.Keys)
            if (!before.Entries.ContainsKey(path)) changes.Add("added " + path);
        return changes;
    }

    /// <summary>Changes outside the given relative paths (a command's own output, e.g. "run/" or "out.bin").</summary>
    public IReadOnlyList<string> ChangesSince(FolderSnapshot before, params string[] allowed) =>
        ChangesSince(before).Where(change => !allowed.Any(a => change[(change.IndexOf(' ') + 1)..].StartsWith(a, StringComparison.Ordinal))).ToList();
}
