namespace Flame.Output;

/// <summary>
/// Whole-file writes into an output folder: a temporary file named for this process, then a rename. The rename
/// replaces a symbolic link itself, never the file it points to (outside the folder, perhaps), and a reader never
/// sees half a file. A temporary a killed writer of the same file left is removed first.
/// </summary>
public static class OutputFiles
{
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
