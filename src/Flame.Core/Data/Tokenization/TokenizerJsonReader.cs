using System.Text.Json;

namespace Flame.Data.Tokenization;

/// <summary>
/// Reads the parts of a Hugging Face tokenizer.json that a byte-level BPE model needs, and refuses
/// (with the file's name and the reason) anything this loader would silently get wrong: another model
/// type, a non-ByteLevel pre-tokenizer, add_prefix_space, or an unknown normalizer.
/// </summary>
public static class TokenizerJsonReader
{
    public sealed record Result(BpeModel Model, bool NfcNormalizer);

    public static Result Read(string path)
    {
        JsonDocument doc;
        try
        {
            using var stream = File.OpenRead(path);
            doc = JsonDocument.Parse(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserError($"{path}: cannot read tokenizer file ({e.Message})"); }
        catch (JsonException e) { throw new UserError($"{path}: not valid JSON ({e.Message})"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                throw new UserError($"{path}: not a Hugging Face tokenizer.json (no \"model\" object)");
            var type = model.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type is not null and not "BPE") throw new UserError($"{path}: model type {type}; only byte-level BPE tokenizers are supported");
            CheckPreTokenizer(path, root);
            bool nfc = ReadNormalizer(path, root);
            if (!model.TryGetProperty("vocab", out var vocabJson) || vocabJson.ValueKind != JsonValueKind.Object)
                throw new UserError($"{path}: model has no \"vocab\" object");
            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var entry in vocabJson.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id) || id < 0)
                    throw new UserError($"{path}: vocab entry \"{entry.Name}\" has no valid id");
                vocab[entry.Name] = id;
            }
            var merges = new List<(string, string)>();
            if (model.TryGetProperty("merges", out var mergesJson) && mergesJson.ValueKind == JsonValueKind.Array)
                foreach (var m in mergesJson.EnumerateArray())
                    merges.Add(ReadMerge(path, m, merges.Count));
            var specials = new Dictionary<string, int>(StringComparer.Ordinal);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
                foreach (var token in added.EnumerateArray())
                {
                    if (token.ValueKind != JsonValueKind.Object || !token.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                        throw new UserError($"{path}: added token {specials.Count} has no \"content\" string");
                    if (!token.TryGetProperty("id", out var i) || !i.TryGetInt32(out var id) || id < 0)
                        throw new UserError($"{path}: added token \"{c.GetString()}\" has no valid id");
                    if (specials.TryGetValue(c.GetString()!, out var before) && before != id)
                        throw new UserError($"{path}: added token \"{c.GetString()}\" appears twice, with ids {before} and {id}");
                    specials[c.GetString()!] = id;
                }
            if (vocab.Count == 0) throw new UserError($"{path}: empty vocabulary");
            return new Result(new BpeModel(vocab, merges, specials), nfc);
        }
    }

    static (string, string) ReadMerge(string path, JsonElement m, int index)
    {
        // Older files write "a b"; tokenizers 0.20+ may write ["a", "b"].
        if (m.ValueKind == JsonValueKind.String)
        {
            var s = m.GetString()!;
            int space = s.IndexOf(' ', 1);
            if (space > 0) return (s[..space], s[(space + 1)..]);
        }
        else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
            return (m[0].GetString()!, m[1].GetString()!);
        throw new UserError($"{path}: merge {index} is malformed");
    }

    static void CheckPreTokenizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind != JsonValueKind.Object)
            throw new UserError($"{path}: no pre_tokenizer; only byte-level BPE (ByteLevel pre-tokenizer) is supported");
        var type = pre.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type != "ByteLevel") throw new UserError($"{path}: pre_tokenizer {type}; only the ByteLevel pre-tokenizer (GPT-2 / GPT-NeoX style) is supported");
        if (pre.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
            throw new UserError($"{path}: ByteLevel add_prefix_space = true is not supported");
        if (pre.TryGetProperty("use_regex", out var regex) && regex.ValueKind == JsonValueKind.False)
            throw new UserError($"{path}: ByteLevel use_regex = false is not supported");
    }

    static bool ReadNormalizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return false;
        var type = n.TryGetProperty("type", out var t) ? t.GetString() : null;
        return type == "NFC" ? true : throw new UserError($"{path}: normalizer {type} is not supported (only none or NFC)");
    }
}
