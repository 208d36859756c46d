using Microsoft.ML.Tokenizers;

namespace Flame.Data.Tokenization;

/// <summary>
/// A loaded tokenizer as the data pipeline uses it: Microsoft.ML.Tokenizers underneath, the vocabulary
/// size (for the dataset's dtype and the model's padded vocab) and the end-of-document id appended after
/// every document.
/// </summary>
public sealed class TextTokenizer(Tokenizer inner, string name, int vocabSize, int endOfDocumentId)
{
    public Tokenizer Inner { get; } = inner;
    public string Name { get; } = name;
    public int VocabSize { get; } = vocabSize;
    public int EndOfDocumentId { get; } = endOfDocumentId;

    /// <summary>Ids of the text alone (no end-of-document id).</summary>
    public IReadOnlyList<int> Encode(string text) => Inner.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true);

    /// <summary>Ids of one document followed by the end-of-document id.</summary>
    public int[] EncodeDocument(string text)
    {
        var ids = Encode(text);
        var result = new int[ids.Count + 1];
        for (int i = 0; i < ids.Count; i++) result[i] = ids[i];
        result[^1] = EndOfDocumentId;
        return result;
    }

    public string Decode(IEnumerable<int> ids) => Inner.Decode(ids) ?? "";

    public TextTokenizer WithEndOfDocument(int id) =>
        id < 0 || id >= VocabSize ? throw new UserError($"end-of-document id {id} is outside the vocabulary [0, {VocabSize}) of {Name}") : new(Inner, Name, VocabSize, id);
}
