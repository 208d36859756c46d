namespace Flame.Failures;

/// <summary>
/// Turns .NET's "could not find a part of the path" and "access denied" into what the user did: gave a file
/// where a folder belongs or a folder where a file belongs. .NET quotes the path at the end of these messages.
/// </summary>
public static class WrongKindOfPath
{
    /// <summary>The user-facing line when <paramref name="e"/> comes from a path of the wrong kind, else null.</summary>
    public static string? Explain(Exception e)
    {
        if (e is not (IOException or UnauthorizedAccessException) || QuotedPath(e.Message) is not { } path) return null;
        const int Eisdir = 21;
        if (Directory.Exists(path) && (e is UnauthorizedAccessException || e.HResult == Eisdir || e.Message.Contains("Is a directory", StringComparison.Ordinal)))
            return $"{path}: is a folder, not a file; give a file path";
        for (var parent = Path.GetDirectoryName(path); !string.IsNullOrEmpty(parent); parent = Path.GetDirectoryName(parent))
            if (File.Exists(parent)) return $"{parent}: is a file, not a folder, so {path} cannot be created under it";
        return null;
    }

    /// <summary>The last '...' in a message, where .NET puts the path of a failed file operation.</summary>
    public static string? QuotedPath(string message)
    {
        int end = message.LastIndexOf('\'');
        if (end <= 0) return null;
        int start = message.LastIndexOf('\'', end - 1);
        return start < 0 || end - start < 2 ? null : message[(start + 1)..end];
    }
}
