namespace Flame.Generation;

/// <summary>How to continue a prompt.</summary>
/// <param name="MaxTokens">new tokens at most (fewer when the end-of-document token comes or the context is full).</param>
/// <param name="Temperature">0 picks the most likely token (greedy); otherwise logits are divided by it.</param>
/// <param name="TopK">sample among the k most likely tokens; 0 for all.</param>
/// <param name="TopP">sample within the smallest set of most likely tokens whose probability reaches p; 1 for all.</param>
/// <param name="Seed">the sampler's seed: the same seed, prompt and model give the same text.</param>
/// <param name="UseCache">keep keys and values (one token per step) instead of re-running the whole sequence.</param>
/// <param name="StopAtEndOfDocument">stop when the model ends the document.</param>
public sealed record GenerationOptions(
    int MaxTokens = 100, double Temperature = 1.0, int TopK = 50, double TopP = 1.0, int Seed = 1234,
    bool UseCache = true, bool StopAtEndOfDocument = true)
{
    public GenerationOptions Validate()
    {
        if (MaxTokens < 0) throw new UserError($"max tokens must be 0 or more (got {MaxTokens})");
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new UserError($"temperature must be 0 (greedy) or positive (got {Temperature})");
        if (TopK < 0) throw new UserError($"top-k must be 0 (off) or positive (got {TopK})");
        if (!(TopP > 0 && TopP <= 1)) throw new UserError($"top-p must be in (0, 1] (got {TopP})");
        return this;
    }
}
