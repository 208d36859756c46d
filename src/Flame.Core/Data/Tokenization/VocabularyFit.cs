using Flame.Model;

namespace Flame.Data.Tokenization;

/// <summary>
/// The tokenizer's ids must fit the model's vocabulary (model.vocab_size; the embedding is padded above it).
/// Checked before any work by `data prepare --preset` and by training, so a mismatch such as cl100k_base
/// (100,277 ids) with a FLAME-MoE preset (GPT-NeoX's 50,277) is named at once, not at the first large id.
/// </summary>
public static class VocabularyFit
{
    public static void Require(string tokenizer, ModelConfig model) => Require(TokenizerLoader.Load(tokenizer), model, tokenizer);

    public static void Require(TextTokenizer tokenizer, ModelConfig model, string? name = null)
    {
        if (tokenizer.VocabSize <= model.VocabSize) return;
        throw new UserError($"tokenizer {name ?? tokenizer.Name} has {tokenizer.VocabSize:N0} ids but model {model.Name} takes {model.VocabSize:N0} " +
            $"(model.vocab_size): use the model's tokenizer ({Expected(model)}) or set model.vocab_size={tokenizer.VocabSize}");
    }

    static string Expected(ModelConfig model) => model.VocabSize switch
    {
        50277 => "FLAME-MoE's is EleutherAI/pythia's GPT-NeoX tokenizer.json, 50,277 ids",
        8192 => "the demo tokenizer",
        _ => $"one with at most {model.VocabSize:N0} ids",
    };
}
