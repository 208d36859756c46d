using Microsoft.ML.Tokenizers;

namespace Flame.Data.Tokenization;

/// <summary>
/// A loaded tokenizer as the data pipeline uses it: Microsoft.ML.Tokenizers underneath, the vocabulary
/// size (for the dataset's dtype and the model's padded vocab) and the end-of-document id appended after
/// every document. Each thread encodes with its own instance, made by the factory: the library's word
/// caches are shared and locked, which made two threads slower than one.
/// </summary>
public sealed class TextTokenizer
{
    readonly Func<Tokenizer> _create;
    readonly ThreadLocal<Tokenizer> _perThread;
    readonly LongPieces? _longPieces;

    public TextTokenizer(Func<Tokenizer> create, string name, int vocabSize, int endOfDocumentId, LongPieces? longPieces = null)
    {
        _create = create;
        _longPieces = longPieces;
        _perThread = new ThreadLocal<Tokenizer>(create);
        Inner = _perThread.Value!;
        Name = name;
        VocabSize = vocabSize;
        EndOfDocumentId = endOfDocumentId;
    }

    /// <summary>The calling thread's instance.</summary>
    public Tokenizer Inner { get; }
    public string Name { get; }
    public int VocabSize { get; }
    public int EndOfDocumentId { get; }

    /// <summary>Ids of the text alone (no end-of-document id).</summary>
    public IReadOnlyList<int> Encode(string text) => _longPieces is not null && LongPieces.MayHoldOne(text)
        ? _longPieces.Encode(_perThread.Value!, text)
        : _perThread.Value!.EncodeToIds(text, considerPreTokenization: true, considerNormalization: true);

    /// <summary>Ids of one document followed by the end-of-document id.</summary>
    public int[] EncodeDocument(string text)
    {
        var ids = Encode(text);
        var result = new int[ids.Count + 1];
        for (int i = 0; i < ids.Count; i++) result[i] = ids[i];
        result[^1] = EndOfDocumentId;
        return result;
    }

    public string Decode(IEnumerable<int> ids) => _perThread.Value!.Decode(ids) ?? "";

    public TextTokenizer WithEndOfDocument(int id) =>
        id < 0 || id >= VocabSize ? throw new UserError($"end-of-document id {id} is outside the vocabulary [0, {VocabSize}) of {Name}") : new(_create, Name, VocabSize, id, _longPieces);
}
