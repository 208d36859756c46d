namespace Flame.Data.Readers;

/// <summary>
/// Expands what the user named (files, folders, globs with * ? and **) into a sorted list of corpus files,
/// so a run sees its files in the same order every time.
/// </summary>
public static class CorpusInputs
{
    static readonly string[] Known = [".jsonl", ".json", ".parquet", ".txt"];

    public static bool IsCorpusFile(string path) =>
        Known.Any(ext => CorpusFileStream.FormatName(path).EndsWith(ext, StringComparison.OrdinalIgnoreCase));

    public static IReadOnlyList<string> Expand(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var input in inputs)
        {
            if (input.IndexOfAny(['*', '?']) >= 0) files.AddRange(Glob(input));
            else if (Directory.Exists(input))
            {
                var found = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories).Where(IsCorpusFile).Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0) throw new UserError($"{input}: folder holds no .jsonl, .jsonl.zst, .parquet or .txt files");
                files.AddRange(found);
            }
            else if (File.Exists(input)) files.Add(input);
            else throw new UserError($"{input}: no such file or folder");
        }
        if (files.Count == 0) throw new UserError("no input files");
        return files;
    }

    static List<string> Glob(string pattern)
    {
        // The folder part before the first wildcard is the root; the rest is matched against relative paths.
        int firstWild = pattern.IndexOfAny(['*', '?']);
        int slash = pattern.LastIndexOf('/', firstWild);
        string root = slash < 0 ? "." : (slash == 0 ? "/" : pattern[..slash]);
        string rest = slash < 0 ? pattern : pattern[(slash + 1)..];
        if (!Directory.Exists(root)) throw new UserError($"{pattern}: folder {root} does not exist");
        var regex = GlobRegex(rest);
        var depth = rest.Contains("**") ? SearchOption.AllDirectories : (rest.Contains('/') ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly);
        var found = Directory.EnumerateFiles(root, "*", depth)
            .Where(f => regex.IsMatch(Path.GetRelativePath(root, f).Replace('\\', '/')))
            .Order(StringComparer.Ordinal).ToList();
        if (found.Count == 0) throw new UserError($"{pattern}: matches no files");
        return found;
    }

    /// <summary>* matches within one folder name, ** across folders, ? one character.</summary>
    static System.Text.RegularExpressions.Regex GlobRegex(string glob)
    {
        var sb = new System.Text.StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                bool slashAfter = i + 2 < glob.Length && glob[i + 2] == '/';
                sb.Append(slashAfter ? "(?:.*/)?" : ".*");
                i += slashAfter ? 2 : 1;
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(System.Text.RegularExpressions.Regex.Escape(c.ToString()));
        }
        return new System.Text.RegularExpressions.Regex(sb.Append('$').ToString());
    }
}
