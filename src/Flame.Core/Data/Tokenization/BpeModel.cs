namespace Flame.Data.Tokenization;

/// <summary>
/// A byte-level BPE model as tokenizer.json stores it: token strings (in GPT-2's byte alphabet) with
/// ids, merges in rank order, and the added special tokens (the end-of-document token among them).
/// </summary>
public sealed record BpeModel(
    IReadOnlyDictionary<string, int> Vocabulary,
    IReadOnlyList<(string Left, string Right)> Merges,
    IReadOnlyDictionary<string, int> SpecialTokens)
{
    public int VocabSize => Math.Max(Vocabulary.Values.DefaultIfEmpty(-1).Max(), SpecialTokens.Values.DefaultIfEmpty(-1).Max()) + 1;
}
