using Flame.Data.Tokenization;

namespace Flame.Evaluation;

/// <summary>Token ids of a scored pair: the context, then the continuation whose log-likelihood is summed.</summary>
public sealed record TokenizedRequest(int[] Context, int[] Continuation)
{
    /// <summary>
    /// Tokenizes like the harness's HF model (_encode_pair): trailing whitespace of the context moves to the
    /// front of the continuation; the whole text and the context are encoded separately and the continuation
    /// is what the whole has beyond the context's token count (so a merge across the boundary lands in the
    /// continuation). An empty context becomes the end-of-document token, as the harness uses the EOT token.
    /// </summary>
    /// <param name="contextCache">encodings of contexts already seen (a document's choices share one context).</param>
    public static TokenizedRequest Encode(TextTokenizer tokenizer, string context, string continuation, Dictionary<string, IReadOnlyList<int>>? contextCache = null)
    {
        if (context.Length == 0) return new([tokenizer.EndOfDocumentId], [.. tokenizer.Encode(continuation)]);
        int kept = context.TrimEnd().Length;
        if (kept < context.Length)
        {
            continuation = context[kept..] + continuation;
            context = context[..kept];
        }
        var whole = tokenizer.Encode(context + continuation);
        IReadOnlyList<int> contextIds;
        if (contextCache is null) contextIds = tokenizer.Encode(context);
        else if (!contextCache.TryGetValue(context, out contextIds!)) contextCache[context] = contextIds = tokenizer.Encode(context);
        var contextTokens = contextIds.Count == 0 ? [tokenizer.EndOfDocumentId] : contextIds.ToArray();
        return new(contextTokens, whole.Skip(contextIds.Count).ToArray());
    }
}
