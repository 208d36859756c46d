using System.Diagnostics;

namespace Flame.Output;

/// <summary>
/// Temporary files and folders carry the writing process's id (NAME.tmp-PID, NAME.tmp-PID-RANDOM), so they are
/// provably a command's own: a process removes its own when it finishes or fails, and the next start removes those
/// whose process is gone (killed), never those of a live process.
/// </summary>
public static class TemporaryFiles
{
    const string Tag = ".tmp-";

    /// <summary>This process's temporary name for <paramref name="path"/>.</summary>
    public static string For(string path) => $"{path}{Tag}{Environment.ProcessId}";

    /// <summary>A temporary name unique within this process too (several writers of one path).</summary>
    public static string Unique(string path) => $"{For(path)}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>The writing process of a temporary name, or null when the name is not one.</summary>
    public static int? ProcessOf(string name)
    {
        int at = name.LastIndexOf(Tag, StringComparison.Ordinal);
        if (at < 0) return null;
        var rest = name[(at + Tag.Length)..];
        int end = rest.IndexOf('-');
        return int.TryParse(end < 0 ? rest : rest[..end], out int pid) ? pid : null;
    }

    public static bool IsTemporary(string name) => ProcessOf(name) is not null;

    /// <summary>
    /// Removes the temporary files and folders in <paramref name="folder"/> whose name starts with
    /// <paramref name="prefix"/> and whose process is no longer alive; returns what it removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveAbandoned(string folder, string prefix = "")
    {
        var removed = new List<string>();
        if (!Directory.Exists(folder)) return removed;
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos(prefix + "*" + Tag + "*"))
        {
            if (ProcessOf(entry.Name) is not int pid || IsAlive(pid)) continue;
            try
            {
                if (entry is DirectoryInfo dir && dir.LinkTarget is null) dir.Delete(recursive: true);
                else entry.Delete();
                removed.Add(entry.FullName);
            }
            catch (IOException) { } // another process took it meanwhile; it is not ours to fight over
        }
        return removed;
    }

    public static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
