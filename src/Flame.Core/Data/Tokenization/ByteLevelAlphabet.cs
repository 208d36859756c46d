using System.Text;

namespace Flame.Data.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table: printable bytes stand for themselves, the other 68 map to U+0100
/// onwards, so every byte sequence becomes a visible string (space becomes 'Ġ'). Hugging Face's
/// ByteLevel pre-tokenizer and Microsoft.ML.Tokenizers' ByteLevel option use the same table.
/// </summary>
public static class ByteLevelAlphabet
{
    public static readonly IReadOnlyList<char> ByteToChar = Build();

    static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }

    public static string Encode(string text) => Encode(Encoding.UTF8.GetBytes(text));
}
