using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Flame.Data.Tokenization;

/// <summary>The GPT-2 split pattern that Hugging Face's ByteLevel pre-tokenizer applies (use_regex = true), shared by the trainer and the loader.</summary>
public static partial class Gpt2PreTokenizer
{
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Pattern)]
    public static partial Regex Regex();

    public static PreTokenizer Create(IReadOnlyDictionary<string, int>? specialTokens) => new RegexPreTokenizer(Regex(), specialTokens);
}
