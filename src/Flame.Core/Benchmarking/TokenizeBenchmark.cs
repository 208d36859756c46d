using System.Diagnostics;
using Flame.Data.Tokenization;

namespace Flame.Benchmarking;

/// <summary>
/// What <see cref="TokenizeBenchmark.Run"/> measured: one document of <paramref name="Chars"/> random lowercase letters
/// encoded into <paramref name="Tokens"/> ids in <paramref name="Seconds"/>; <paramref name="AgainSeconds"/> is a second
/// encode of the same text (null with <paramref name="LibraryOnly"/>).
/// </summary>
public sealed record TokenizeBenchmarkResult(string Tokenizer, int Chars, int Tokens, double Seconds, bool LibraryOnly, double? AgainSeconds);

/// <summary>
/// Seconds to encode one document without whitespace, the worst case for BPE: the whole text is one piece, which
/// goes through <see cref="MergeQueue"/> (via <see cref="LongPieces"/>), or with <c>libraryOnly</c> through
/// Microsoft.ML.Tokenizers' own encode alone.
/// </summary>
public static class TokenizeBenchmark
{
    /// <summary>The document: <paramref name="chars"/> letters a-z drawn from <c>new Random(seed)</c>.</summary>
    public static string Document(int chars, int seed)
    {
        if (chars < 0) throw new UserError($"--bytes must be 0 or more (got {chars})");
        var random = new Random(seed);
        return new string(Enumerable.Range(0, chars).Select(_ => (char)('a' + random.Next(26))).ToArray());
    }

    public static TokenizeBenchmarkResult Run(string tokenizer, int chars, int seed, bool libraryOnly)
    {
        var loaded = TokenizerLoader.Load(tokenizer);
        var text = Document(chars, seed);
        loaded.Encode("warm up");
        var clock = Stopwatch.StartNew();
        var ids = libraryOnly ? loaded.Inner.EncodeToIds(text) : loaded.Encode(text);
        double seconds = clock.Elapsed.TotalSeconds;
        if (libraryOnly) return new(loaded.Name, text.Length, ids.Count, seconds, true, null);
        // The first long piece also reads a tiktoken encoding's ranks and compiles the merge loop, once per process;
        // a second encode shows what each further document costs (data prepare encodes many with one tokenizer).
        clock.Restart();
        loaded.Encode(text);
        return new(loaded.Name, text.Length, ids.Count, seconds, false, clock.Elapsed.TotalSeconds);
    }
}
