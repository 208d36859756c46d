namespace Flame.Analysis;

/// <summary>One vocabulary token's specialization score for an expert.</summary>
public sealed record SpecializedToken(int Token, double Score, long Hits, long Occurrences);

/// <summary>
/// Expert specialization (spec §5): S(e, v) = #{occurrences of v with e in top-k} / #{occurrences of v},
/// tokens seen fewer than <see cref="MinOccurrences"/> times left out. Counts are kept token-major
/// (hits[v * experts + e]) so the table grows with the vocabulary, never with the traced tokens.
/// </summary>
public static class Specialization
{
    public const int MinOccurrences = 5;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Count(ReadOnlySpan<int> rows, ReadOnlySpan<int> tokens, int k, int experts, int[] hits)
    {
        for (int r = 0, o = 0; r < tokens.Length; r++, o += k)
        {
            int row = tokens[r] * experts;
            for (int a = 0; a < k; a++) hits[row + rows[o + a]]++;
        }
    }

    public static double Score(long hits, long occurrences) => occurrences == 0 ? 0 : (double)hits / occurrences;

    /// <summary>An expert's most specialized tokens: highest S first, then more hits, then lower id.</summary>
    public static List<SpecializedToken> TopTokens(int[] hits, long[] occurrences, int expert, int experts, int count, int minOccurrences = MinOccurrences)
    {
        var best = new List<SpecializedToken>();
        for (int v = 0; v < occurrences.Length; v++)
        {
            if (occurrences[v] < minOccurrences) continue;
            long h = hits[v * experts + expert];
            if (h == 0) continue;
            best.Add(new SpecializedToken(v, Score(h, occurrences[v]), h, occurrences[v]));
        }
        return best.OrderByDescending(t => t.Score).ThenByDescending(t => t.Hits).ThenBy(t => t.Token).Take(count).ToList();
    }
}
