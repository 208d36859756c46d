using System.Diagnostics;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Generation;

/// <summary>
/// Continues a token sequence with a model, one token at a time. With the KV cache the prompt runs once and
/// each step runs only the newest token; without it each step re-runs the whole sequence (the reference the
/// cache is tested against: greedy decoding gives the same tokens). Tokens at or above
/// <c>vocabSize</c> (the embedding's padding) are never produced.
/// </summary>
public sealed class TextGenerator(FlameModel model, int vocabSize, int endOfDocumentId)
{
    /// <summary>Yields each new token as it is chosen (for streaming); stops at max tokens, end of document or a full context.</summary>
    public IEnumerable<int> Generate(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        options.Validate();
        if (prompt.Count == 0) throw new UserError("the prompt has no tokens");
        int limit = Math.Min(options.MaxTokens, model.Config.MaxPositions - prompt.Count);
        if (limit < 0) throw new UserError($"the prompt's {prompt.Count} tokens exceed the model's max positions {model.Config.MaxPositions}");
        var sampler = new TokenSampler(options);
        var sequence = prompt.Select(t => (long)t).ToList();
        var device = model.embedding.device;
        int usable = Math.Min(vocabSize, model.Config.PaddedVocab);
        using var cache = options.UseCache ? model.NewCache(prompt.Count + limit) : null;
        for (int step = 0; step < limit; step++)
        {
            float[] logits;
            using (no_grad())
            using (NewDisposeScope())
            {
                // With the cache: the whole prompt first, then only the token chosen last.
                var input = cache is null ? sequence : step == 0 ? sequence : sequence.GetRange(sequence.Count - 1, 1);
                var tokens = tensor(input.ToArray(), [1, input.Count]).to(device);
                var all = cache is null ? model.forward(tokens).Logits : model.forward(tokens, cache);
                logits = all[0, -1].narrow(0, 0, usable).to(ScalarType.Float32).cpu().data<float>().ToArray();
            }
            int next = sampler.Next(logits);
            sequence.Add(next);
            yield return next;
            if (options.StopAtEndOfDocument && next == endOfDocumentId) yield break;
        }
    }
}
