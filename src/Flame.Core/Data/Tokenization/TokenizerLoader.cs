using Microsoft.ML.Tokenizers;

namespace Flame.Data.Tokenization;

/// <summary>
/// Loads a tokenizer by name (cl100k_base, o200k_base, demo) or from a Hugging Face tokenizer.json (a file,
/// or a folder holding one). The end-of-document id defaults to the tokenizer's &lt;|endoftext|&gt; (0 for GPT-NeoX).
/// </summary>
public static class TokenizerLoader
{
    public const string EndOfText = "<|endoftext|>";
    public static readonly string[] BuiltIn = ["cl100k_base", "o200k_base", "demo"];

    public static TextTokenizer Load(string nameOrPath, int? endOfDocumentId = null)
    {
        var tokenizer = nameOrPath switch
        {
            "cl100k_base" or "o200k_base" => FromTiktoken(nameOrPath),
            "demo" => FromFile(DemoAssets.TokenizerPath()),
            _ => FromFile(Directory.Exists(nameOrPath) ? Path.Combine(nameOrPath, "tokenizer.json") : nameOrPath),
        };
        return endOfDocumentId is int id ? tokenizer.WithEndOfDocument(id) : tokenizer;
    }

    static TextTokenizer FromTiktoken(string encoding)
    {
        var tiktoken = TiktokenTokenizer.CreateForEncoding(encoding);
        // The special tokens sit at the top of both encodings (cl100k_base: 100277 ids, o200k_base: 200019).
        int vocab = tiktoken.SpecialTokens!.Values.Max() + 1;
        return new TextTokenizer(() => TiktokenTokenizer.CreateForEncoding(encoding), encoding, vocab, tiktoken.SpecialTokens![EndOfText],
            new LongPieces.Tiktoken(new(() => TiktokenRanks.Load(encoding)), tiktoken.SpecialTokens));
    }

    public static TextTokenizer FromFile(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: no such tokenizer file (give cl100k_base, o200k_base, demo or a tokenizer.json)");
        var (model, nfc) = TokenizerJsonReader.Read(path);
        return FromModel(model, path, nfc);
    }

    public static TextTokenizer FromModel(BpeModel model, string name, bool nfc = false)
    {
        TokenizerValidation.Require(model, name);
        // Longest first: the pre-tokenizer tries added tokens in this order, and Hugging Face matches the
        // longest one (GPT-NeoX adds runs of 2..24 spaces as tokens).
        var specials = model.SpecialTokens.OrderByDescending(t => t.Key.Length).ThenBy(t => t.Key, StringComparer.Ordinal)
            .ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        BpeTokenizer Create() => BpeTokenizer.Create(new BpeOptions(model.Vocabulary.Where(v => !specials.ContainsKey(v.Key)))
        {
            Merges = model.Merges.Select(m => m.Left + " " + m.Right),
            SpecialTokens = specials.Count > 0 ? specials : null,
            PreTokenizer = Gpt2PreTokenizer.Create(specials.Count > 0 ? specials : null),
            Normalizer = nfc ? new NfcNormalizer() : null,
            ByteLevel = true,
        });
        try { Create(); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new UserError($"{name}: tokenizer cannot be built ({e.Message})");
        }
        int eod = model.SpecialTokens.TryGetValue(EndOfText, out var id) ? id
            : model.Vocabulary.TryGetValue(EndOfText, out id) ? id
            : model.SpecialTokens.Count > 0 ? model.SpecialTokens.Values.Min() : 0;
        var longPieces = new LongPieces.Bpe(model, specials);
        return new TextTokenizer(Create, name, model.VocabSize, eod, longPieces.Usable ? longPieces : null);
    }
}
