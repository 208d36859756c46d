using System.Text;
using Flame.Data.Tokenization;

namespace Flame.Tests.Data;

/// <summary>
/// A deliberately plain BPE encoder written from the tokenizer.json semantics Hugging Face `tokenizers`
/// implements (split with the GPT-2 regex, map bytes to GPT-2's alphabet, repeatedly apply the
/// lowest-ranked merge present), read straight from the JSON file. Agreement with it is the local stand-in
/// for agreement with `tokenizers`, which is not installed here.
/// </summary>
sealed class ReferenceBpe
{
    readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);
    readonly Dictionary<(string, string), int> _ranks = [];
    readonly Dictionary<string, int> _specials = new(StringComparer.Ordinal);

    public ReferenceBpe(string tokenizerJson)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(tokenizerJson));
        var model = doc.RootElement.GetProperty("model");
        foreach (var v in model.GetProperty("vocab").EnumerateObject()) _vocab[v.Name] = v.Value.GetInt32();
        int rank = 0;
        foreach (var m in model.GetProperty("merges").EnumerateArray())
        {
            var parts = m.GetString()!.Split(' ');
            _ranks[(parts[0], parts[1])] = rank++;
        }
        foreach (var t in doc.RootElement.GetProperty("added_tokens").EnumerateArray())
            _specials[t.GetProperty("content").GetString()!] = t.GetProperty("id").GetInt32();
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (System.Text.RegularExpressions.Match piece in Gpt2PreTokenizer.Regex().Matches(text))
        {
            var symbols = Encoding.UTF8.GetBytes(piece.Value).Select(b => ByteLevelAlphabet.ByteToChar[b].ToString()).ToList();
            while (symbols.Count > 1)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (_ranks.TryGetValue((symbols[i], symbols[i + 1]), out var r) && r < bestRank) { bestRank = r; best = i; }
                if (best < 0) break;
                symbols[best] += symbols[best + 1];
                symbols.RemoveAt(best + 1);
            }
            ids.AddRange(symbols.Select(s => _vocab[s]));
        }
        return ids;
    }
}
