namespace Flame.Data.Readers;

/// <summary>The kinds of corpus file Flame reads; a file's kind comes from its name, or from --format when the name does not tell (/dev/stdin, a pipe).</summary>
public enum CorpusFormat { Jsonl, Text, Parquet }

public static class CorpusFormats
{
    public const string Choices = "jsonl, text or parquet";

    public static CorpusFormat? Parse(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "jsonl" or "json" => CorpusFormat.Jsonl,
        "text" or "txt" => CorpusFormat.Text,
        "parquet" => CorpusFormat.Parquet,
        _ => throw new UserError($"unknown --format '{text}'; valid choices: {Choices}"),
    };

    /// <summary>The kind a file name says (compression suffix ignored), or null for a name that says none.</summary>
    public static CorpusFormat? FromName(string path)
    {
        var name = CorpusFileStream.FormatName(path);
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return CorpusFormat.Jsonl;
        if (name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)) return CorpusFormat.Parquet;
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) return CorpusFormat.Text;
        return null;
    }
}
