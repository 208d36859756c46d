namespace Flame.Output;

/// <summary>Who a folder belongs to, as far as a command that wants to write into it can tell.</summary>
public enum FolderOwner { New, Empty, Ours, Foreign }

/// <summary>
/// The one place the output-folder rule lives: a command writes only into a folder that is new, empty
/// or provably its own (our <see cref="OutputMarker"/> of the same kind, or what an older Flame wrote there).
/// Anything else is one line naming the folder and the ways out; <c>--overwrite</c> removes only the entries the
/// command itself writes (<see cref="OutputKind.Owns"/>), says which, and keeps everything else.
/// </summary>
public static class OutputFolder
{
    public const string LockFile = ".flame-lock";
    public const string LockHolderFile = ".flame-lock.json";

    /// <summary>Flame's own bookkeeping files, which listings of a folder's content skip.</summary>
    public static bool IsBookkeeping(string name) => name is OutputMarker.FileName or LockFile or LockHolderFile;

    /// <summary>A folder's entries without the bookkeeping files.</summary>
    public static IEnumerable<string> Entries(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Where(e => !IsBookkeeping(Path.GetFileName(e)));

    public static FolderOwner OwnerOf(string folder, OutputKind kind)
    {
        if (File.Exists(folder)) throw new UserError($"{folder}: is a file, not a folder; choose a folder");
        if (!Directory.Exists(folder)) return FolderOwner.New;
        if (OutputMarker.Read(folder) is { } marker) return marker.Kind == kind.Name ? FolderOwner.Ours : FolderOwner.Foreign;
        if (!Entries(folder).Any()) return FolderOwner.Empty;
        return kind.WrittenBefore(folder) ? FolderOwner.Ours : FolderOwner.Foreign;
    }

    /// <summary>
    /// Makes <paramref name="folder"/> this command's output: new, empty or ours is created and marked; a foreign
    /// folder is refused unless <paramref name="overwrite"/>, which first removes what the command writes there.
    /// </summary>
    /// <param name="option">the command's option naming the folder (e.g. "--out"), for the message.</param>
    /// <param name="say">where --overwrite reports what it removed.</param>
    public static FolderOwner Claim(string folder, OutputKind kind, string command, string option, bool overwrite, Action<string>? say = null)
    {
        var owner = OwnerOf(folder, kind);
        if (owner == FolderOwner.Foreign)
        {
            if (!overwrite) throw Refusal(folder, kind, option);
            RemoveOwned(folder, kind, say);
        }
        Directory.CreateDirectory(folder);
        if (owner != FolderOwner.Ours || OutputMarker.Read(folder) is null) new OutputMarker(kind.Name, command, DateTimeOffset.UtcNow).Write(folder);
        return owner;
    }

    /// <summary>
    /// <see cref="Claim"/>, then <paramref name="work"/>: when the work fails, a folder the claim made is removed again
    /// if it holds nothing but bookkeeping, so a failed command leaves nothing behind.
    /// </summary>
    public static T ClaimFor<T>(string folder, OutputKind kind, string command, string option, bool overwrite, Action<string>? say, Func<T> work)
    {
        var owner = Claim(folder, kind, command, option, overwrite, say);
        try { return work(); }
        catch
        {
            if (owner == FolderOwner.New) DeleteIfOnlyBookkeeping(folder);
            throw;
        }
    }

    /// <summary>A refused claim or failed command on a folder that did not exist leaves no folder behind.</summary>
    public static void DeleteIfOnlyBookkeeping(string folder)
    {
        if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any(e => !IsBookkeeping(Path.GetFileName(e)))) return;
        Directory.Delete(folder, recursive: true);
    }

    public static UserError Refusal(string folder, OutputKind kind, string option)
    {
        var what = OutputMarker.Read(folder) is { } marker ? $"holds a Flame {marker.Kind} output (from {marker.Command})" : "is not empty and was not written by Flame";
        var full = Path.GetFullPath(folder);
        var name = full.TrimEnd('/') == folder.TrimEnd('/') ? folder : $"{folder} ({full})";
        return new UserError($"{name}: {what}; choose a new or empty {option}, or add --overwrite to remove only what this command writes there ({Describe(kind)}) and keep the rest");
    }

    /// <summary>Removes the entries <paramref name="kind"/> owns (never anything else) and the marker; returns what it removed.</summary>
    public static IReadOnlyList<string> RemoveOwned(string folder, OutputKind kind, Action<string>? say = null, bool keepMarker = false)
    {
        var removed = new List<string>();
        if (!Directory.Exists(folder)) return removed;
        foreach (var pattern in keepMarker ? kind.Owns : kind.Owns.Append(OutputMarker.FileName))
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos(pattern))
            {
                // A link is removed itself; its target is not this command's.
                if (entry is DirectoryInfo dir && dir.LinkTarget is null) dir.Delete(recursive: true);
                else entry.Delete();
                removed.Add(entry.Name);
            }
        if (removed.Any(n => n != OutputMarker.FileName)) say?.Invoke($"--overwrite: removed {string.Join(", ", removed.Where(n => n != OutputMarker.FileName))} from {folder}");
        return removed;
    }

    /// <summary>Refuses a symbolic link where the command would write or remove a whole folder or file.</summary>
    public static void RefuseLinks(string folder, params string[] names)
    {
        foreach (var name in names)
        {
            var path = Path.Combine(folder, name);
            var info = new FileInfo(path);
            if (info.LinkTarget is { } target)
                throw new UserError($"{path}: is a symbolic link (to {target}); Flame never writes or removes through a link: replace it with a real folder or choose another output folder");
        }
    }

    static string Describe(OutputKind kind) => string.Join(", ", kind.Owns);

    /// <summary>
    /// Writes a folder that must be new or empty: everything goes into a temporary sibling named for this process,
    /// which is marked and renamed into place when complete, so a failed command leaves nothing half-written.
    /// </summary>
    public static T WriteNew<T>(string folder, OutputKind kind, string command, string option, Func<string, T> write)
    {
        RequireNewOrEmpty(folder, option);
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(parent);
        TemporaryFiles.RemoveAbandoned(parent, Path.GetFileName(full));
        var temp = TemporaryFiles.Unique(full);
        Directory.CreateDirectory(temp);
        try
        {
            var result = write(temp);
            new OutputMarker(kind.Name, command, DateTimeOffset.UtcNow).Write(temp);
            RequireNewOrEmpty(folder, option);
            if (Directory.Exists(full)) Directory.Delete(full); // empty, checked just above
            Directory.Move(temp, full);
            return result;
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    public static void RequireNewOrEmpty(string folder, string option)
    {
        if (File.Exists(folder)) throw new UserError($"{folder}: is a file; {option} must be a new or empty folder");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new UserError($"{folder}: not empty; {option} must be a new or empty folder (Flame never adds to or overwrites a folder it did not start)");
    }
}
