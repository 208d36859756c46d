using System.CommandLine;

namespace Flame.Cli.Commands;

/// <summary>Options the data and tokenizer commands share.</summary>
public static class DataOptions
{
    public static Option<string[]> Inputs() => new("--input")
    {
        Description = "corpus files, folders or globs (.jsonl, .jsonl.zst, .parquet, .txt); default: the demo Brown corpus",
        AllowMultipleArgumentsPerToken = true,
    };

    public static Option<string> TextField() => new("--text-field")
    {
        Description = "JSON field / Parquet column holding the text",
        DefaultValueFactory = _ => "text",
    };

    public static Option<string?> Format() => new("--format")
    {
        Description = "what the input files are when their names do not say (/dev/stdin, a pipe): jsonl, text or parquet",
    };

    public static Option<bool> SkipBad() => new("--skip-bad") { Description = "count and skip bad records instead of stopping" };

    public static Option<string> Tokenizer() => new("--tokenizer")
    {
        Description = "cl100k_base, o200k_base, demo, or a Hugging Face tokenizer.json",
        DefaultValueFactory = _ => "demo",
    };
}
