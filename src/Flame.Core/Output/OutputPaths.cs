namespace Flame.Output;

/// <summary>
/// Checks an output path before anything is written, so a wrong one is one line naming it rather than an
/// exception halfway through: empty, a folder where a file name is needed, a file where a folder is needed.
/// </summary>
public static class OutputPaths
{
    /// <summary>A file-name prefix (data prepare's --output): not empty, not a folder, in a folder that exists, and none of <paramref name="files"/> a folder.</summary>
    public static void RequirePrefix(string prefix, string writes, params string[] files)
    {
        if (string.IsNullOrWhiteSpace(prefix)) throw new UserError($"the output prefix is empty; give one such as data/corpus (writes {writes})");
        if (prefix.EndsWith('/') || prefix.EndsWith(Path.DirectorySeparatorChar) || Path.GetFileName(prefix) is "." or "..")
            throw new UserError($"{prefix}: is a folder name, not a file prefix; add a name, e.g. {Path.Combine(prefix, "corpus")} (writes {writes})");
        RequireFolderFor(prefix);
        foreach (var file in files)
            if (Directory.Exists(file)) throw new UserError($"{file}: exists as a folder; choose another output prefix");
    }

    /// <summary>The folder a file will be written into exists and is a folder (not a file).</summary>
    public static void RequireFolderFor(string file)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        if (Directory.Exists(folder)) return;
        var existing = FirstExistingFile(folder);
        if (existing is not null) throw new UserError($"{existing}: is a file, not a folder, so {file} cannot be written under it");
        throw new UserError($"output folder {folder} does not exist");
    }

    /// <summary>A folder the command will fill (a run, an export): not empty, not an existing file, no file among its parents.</summary>
    public static void RequireFolder(string folder, string option)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new UserError($"{option} is empty; give a folder");
        if (File.Exists(folder)) throw new UserError($"{folder}: is a file, not a folder; give {option} a folder");
        if (FirstExistingFile(Path.GetFullPath(folder)) is { } file) throw new UserError($"{file}: is a file, not a folder, so {folder} cannot be made");
    }

    static string? FirstExistingFile(string path)
    {
        for (var p = path; !string.IsNullOrEmpty(p); p = Path.GetDirectoryName(p))
            if (File.Exists(p)) return p;
        return null;
    }
}
