namespace Flame.Generation;

/// <summary>
/// Picks the next token from one position's logits on the host: greedy at temperature 0, else softmax of
/// logits / temperature restricted to the top-k and then the top-p nucleus, drawn with a seeded generator
/// (System.Random, so sampling does not touch libtorch's global generator). Ties go to the lower id.
/// </summary>
public sealed class TokenSampler(GenerationOptions options)
{
    readonly Random _random = new(options.Seed);

    public int Next(ReadOnlySpan<float> logits)
    {
        if (options.Temperature == 0) return ArgMax(logits);
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var keys = logits.ToArray();
        // Descending by logit, ascending by id among equals.
        Array.Sort(order, (a, b) => keys[b].CompareTo(keys[a]) is var c && c != 0 ? c : a.CompareTo(b));
        int kept = options.TopK > 0 ? Math.Min(options.TopK, order.Length) : order.Length;
        var weights = new double[kept];
        double max = keys[order[0]] / options.Temperature, total = 0;
        for (int i = 0; i < kept; i++) total += weights[i] = Math.Exp(keys[order[i]] / options.Temperature - max);
        if (options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < kept; i++)
            {
                cumulative += weights[i] / total;
                if (cumulative >= options.TopP) { kept = i + 1; break; }
            }
            total = weights.Take(kept).Sum();
        }
        double u = _random.NextDouble() * total;
        for (int i = 0; i < kept; i++)
        {
            u -= weights[i];
            if (u < 0) return order[i];
        }
        return order[kept - 1];
    }

    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}
