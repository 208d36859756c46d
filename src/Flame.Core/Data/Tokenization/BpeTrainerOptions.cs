namespace Flame.Data.Tokenization;

/// <summary>Byte-level BPE training: the final vocabulary size (special tokens and the 256 bytes included), the special tokens (ids 0, 1, ...), and the least count a pair needs to be merged.</summary>
public sealed record BpeTrainerOptions(int VocabSize, IReadOnlyList<string>? SpecialTokens = null, int MinPairCount = 2)
{
    public IReadOnlyList<string> Specials => SpecialTokens ?? [TokenizerLoader.EndOfText];
}
