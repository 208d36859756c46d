using System.IO.Compression;
using System.Reflection;

namespace Flame.Data.Tokenization;

/// <summary>
/// A tiktoken encoding's mergeable ranks (token bytes to id), read from the same embedded file the library
/// loads (Microsoft.ML.Tokenizers.Data.*: "base64 rank" lines, deflated), for <see cref="LongPieces.Tiktoken"/>.
/// </summary>
public static class TiktokenRanks
{
    public static IReadOnlyDictionary<ReadOnlyMemory<byte>, int> Load(string encoding)
    {
        string assemblyName = encoding switch
        {
            "cl100k_base" => "Microsoft.ML.Tokenizers.Data.Cl100kBase",
            "o200k_base" => "Microsoft.ML.Tokenizers.Data.O200kBase",
            _ => throw new ArgumentException($"no embedded ranks for {encoding}", nameof(encoding)),
        };
        var assembly = Assembly.Load(assemblyName);
        using var resource = assembly.GetManifestResourceStream($"{encoding}.tiktoken.deflate")
            ?? throw new InvalidOperationException($"{assemblyName} holds no {encoding}.tiktoken.deflate");
        using var reader = new StreamReader(new DeflateStream(resource, CompressionMode.Decompress));
        var ranks = new Dictionary<ReadOnlyMemory<byte>, int>(ByteContent.Comparer);
        int next = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            // The library's compact form: one base64 token per line, ranks counting up; "base64 rank" also occurs in .tiktoken files.
            int space = line.IndexOf(' ');
            int rank = space > 0 ? int.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture) : next;
            ranks[Convert.FromBase64String(space > 0 ? line[..space] : line)] = rank;
            next = rank + 1;
        }
        return ranks;
    }

    /// <summary>Compares byte slices by content, so a slice of a longer buffer finds its token.</summary>
    sealed class ByteContent : IEqualityComparer<ReadOnlyMemory<byte>>
    {
        public static readonly ByteContent Comparer = new();

        public bool Equals(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceEqual(y.Span);

        public int GetHashCode(ReadOnlyMemory<byte> bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes.Span);
            return hash.ToHashCode();
        }
    }
}
