namespace Flame.Interop.Megatron;

/// <summary>
/// Where an import writes: the output folder must be new or empty (a command never overwrites what it did not
/// make). Everything is written into a sibling temporary folder and renamed into place when complete, so a failed
/// import leaves nothing half-written. One small place, so a shared run-folder rule can replace it.
/// </summary>
public static class ImportOutputFolder
{
    public static void RequireNewOrEmpty(string folder)
    {
        if (File.Exists(folder)) throw new UserError($"{folder}: is a file; --out must be a new or empty folder");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new UserError($"{folder}: not empty; --out must be a new or empty folder");
    }

    /// <summary>Runs <paramref name="write"/> on a fresh temporary folder beside <paramref name="folder"/>, then renames it into place.</summary>
    public static T Write<T>(string folder, Func<string, T> write)
    {
        RequireNewOrEmpty(folder);
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            var result = write(temp);
            RequireNewOrEmpty(folder);
            if (Directory.Exists(full)) Directory.Delete(full); // empty, checked just above
            Directory.Move(temp, full);
            return result;
        }
        catch
        {
            Directory.Delete(temp, recursive: true);
            throw;
        }
    }
}
