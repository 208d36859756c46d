namespace Flame.Output;

/// <summary>
/// Whole-file writes into an output folder: a temporary file named for this process, then a rename. The rename
/// replaces a symbolic link itself, never the file it points to (outside the folder, perhaps), and a reader never
/// sees half a file.
/// </summary>
public static class OutputFiles
{
    public static void WriteText(string path, string text)
    {
        var temp = TemporaryFiles.For(path);
        try
        {
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
        finally { File.Delete(temp); }
    }

    public static void Copy(string source, string destination)
    {
        var temp = TemporaryFiles.For(destination);
        try
        {
            File.Copy(source, temp, overwrite: true);
            File.Move(temp, destination, overwrite: true);
        }
        finally { File.Delete(temp); }
    }
}
