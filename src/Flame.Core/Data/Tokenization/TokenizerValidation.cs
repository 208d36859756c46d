namespace Flame.Data.Tokenization;

/// <summary>
/// Checks a BPE model before a tokenizer is built from it, so a broken file fails at load with its name instead
/// of misbehaving later: an added token with empty content matches at every position of every text, and
/// encoding then grows until the process runs out of memory.
/// </summary>
public static class TokenizerValidation
{
    public static void Require(BpeModel model, string name)
    {
        foreach (var (content, id) in model.SpecialTokens)
        {
            if (content.Length == 0) throw new UserError($"{name}: added token {id} has empty content, which would match everywhere; remove it or give it text");
            if (id < 0) throw new UserError($"{name}: added token \"{content}\" has negative id {id}");
        }
        foreach (var (token, id) in model.Vocabulary)
        {
            if (token.Length == 0) throw new UserError($"{name}: vocabulary entry {id} is the empty string; remove it");
            if (id < 0) throw new UserError($"{name}: vocabulary entry \"{token}\" has negative id {id}");
        }
    }
}
