namespace Flame.Output;

/// <summary>
/// Whole-file writes into an output folder: a temporary file named for this process, then a rename. The rename
/// replaces a symbolic link itself, never the file it points to (outside the folder, perhaps), and a reader never
/// sees half a file. A temporary a killed writer of the same file left is removed first.
/// </summary>
public static class OutputFiles
{
    /// <summary>
    /// Output files a command was named (PREFIX.bin and .idx, a tokenizer.json) must not exist yet, unless
    /// <paramref name="overwrite"/>: a dataset or tokenizer there may be someone's days of work. Checked before the work starts.
    /// </summary>
    public static void RequireNew(string option, bool overwrite, params string[] paths)
    {
        if (overwrite) return;
        var existing = paths.Where(p => File.Exists(p) || Directory.Exists(p) || new FileInfo(p).LinkTarget is not null).ToList();
        if (existing.Count > 0)
            throw new UserError($"{string.Join(", ", existing)}: already exist{(existing.Count == 1 ? "s" : "")}; choose another {option}, or add --overwrite to replace {(existing.Count == 1 ? "it" : "them")}");
    }

    public static void WriteText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    public static void Copy(string source, string destination) => Write(destination, temp => File.Copy(source, temp, overwrite: true));

    /// <summary><paramref name="write"/> fills the temporary file it is given; it becomes <paramref name="path"/> when complete.</summary>
    public static void Write(string path, Action<string> write)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        TemporaryFiles.RemoveAbandoned(folder, Path.GetFileName(path)); // what a killed writer of this file left
        var temp = TemporaryFiles.For(path);
        try
        {
            write(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally { File.Delete(temp); }
    }
}
