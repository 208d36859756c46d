using System.Text;
using Microsoft.ML.Tokenizers;

namespace Flame.Data.Tokenization;

/// <summary>Unicode NFC, the normalizer GPT-NeoX's tokenizer.json declares.</summary>
sealed class NfcNormalizer : Normalizer
{
    public override string Normalize(string original) => original.IsNormalized(NormalizationForm.FormC) ? original : original.Normalize(NormalizationForm.FormC);
    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
