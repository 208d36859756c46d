using System.IO.Compression;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flame.Data.Tokenization;

/// <summary>
/// A tiktoken encoding's mergeable ranks (token bytes to id), read from the same embedded file the library
/// loads (Microsoft.ML.Tokenizers.Data.*: "base64 rank" lines, deflated), for <see cref="LongPieces.Tiktoken"/>.
/// An open-addressing table over one byte buffer: a 1 MB piece looks up about two million byte slices, and a
/// Dictionary's generic lookup code still runs unoptimized (tier 0) for much of the first such piece.
/// </summary>
public sealed class TiktokenRanks
{
    readonly byte[] _bytes;   // every token's bytes, one after another
    readonly int[] _starts;   // token i is _bytes[_starts[i].._starts[i + 1]]
    readonly int[] _ranks;
    readonly int[] _slots;    // token index + 1, or 0 for an empty slot
    readonly int[] _byteRanks = new int[256];

    TiktokenRanks(byte[] bytes, int[] starts, int[] ranks)
    {
        (_bytes, _starts, _ranks) = (bytes, starts, ranks);
        _slots = new int[Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)ranks.Length * 2))];
        for (int token = 0; token < ranks.Length; token++)
        {
            var content = Content(token);
            int slot = Slot(content);
            while (_slots[slot] != 0 && !Content(_slots[slot] - 1).SequenceEqual(content)) slot = (slot + 1) & (_slots.Length - 1);
            _slots[slot] = token + 1; // a repeated token keeps its last rank, as the dictionary did
        }
        for (int b = 0; b < 256; b++)
            _byteRanks[b] = TryGetRank([(byte)b], out int rank) ? rank : throw new InvalidOperationException($"tiktoken ranks lack the single byte {b}");
    }

    public int Count => _ranks.Length;

    /// <summary>The rank of a single byte (every byte is a token in tiktoken's encodings).</summary>
    public int ByteRank(byte b) => _byteRanks[b];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetRank(ReadOnlySpan<byte> content, out int rank)
    {
        for (int slot = Slot(content); ; slot = (slot + 1) & (_slots.Length - 1))
        {
            int entry = _slots[slot];
            if (entry == 0) { rank = 0; return false; }
            if (Content(entry - 1).SequenceEqual(content)) { rank = _ranks[entry - 1]; return true; }
        }
    }

    ReadOnlySpan<byte> Content(int token) => _bytes.AsSpan(_starts[token], _starts[token + 1] - _starts[token]);

    /// <summary>Length and 8-byte words mixed multiplicatively, finished with murmur3's avalanche so the low bits index well.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    int Slot(ReadOnlySpan<byte> content)
    {
        ulong h = (ulong)content.Length * 0x9E3779B97F4A7C15UL;
        while (content.Length >= 8)
        {
            h = BitOperations.RotateLeft(h ^ MemoryMarshal.Read<ulong>(content) * 0xC2B2AE3D27D4EB4FUL, 31) * 0x9E3779B97F4A7C15UL;
            content = content[8..];
        }
        ulong tail = 0;
        for (int i = 0; i < content.Length; i++) tail |= (ulong)content[i] << (8 * i);
        h ^= tail * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 33; h *= 0xFF51AFD7ED558CCDUL; h ^= h >> 33; h *= 0xC4CEB9FE1A85EC53UL; h ^= h >> 33;
        return (int)h & (_slots.Length - 1);
    }

    public static TiktokenRanks Load(string encoding)
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
        var bytes = new List<byte>(1 << 20);
        var starts = new List<int> { 0 };
        var ranks = new List<int>(1 << 17);
        Span<byte> token = stackalloc byte[1024];
        int next = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue;
            // The library's compact form: one base64 token per line, ranks counting up; "base64 rank" also occurs in .tiktoken files.
            int space = line.IndexOf(' ');
            int rank = space > 0 ? int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture) : next;
            if (!Convert.TryFromBase64Chars(space > 0 ? line.AsSpan(0, space) : line, token, out int length))
                throw new InvalidOperationException($"{encoding}: a token of the embedded ranks is not base64 of at most {token.Length} bytes");
            bytes.AddRange(token[..length]);
            starts.Add(bytes.Count);
            ranks.Add(rank);
            next = rank + 1;
        }
        return new TiktokenRanks([.. bytes], [.. starts], [.. ranks]);
    }
}
