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
    /// <remarks>
    /// A bounded insertion keeps only the best <paramref name="count"/> while scanning the vocabulary once,
    /// instead of sorting every qualifying token: this runs for every expert, checkpoint and layer.
    /// </remarks>
    public static List<SpecializedToken> TopTokens(int[] hits, long[] occurrences, int expert, int experts, int count, int minOccurrences = MinOccurrences)
    {
        var best = new List<SpecializedToken>(count + 1);
        if (count <= 0) return best;
        for (int v = 0; v < occurrences.Length; v++)
        {
            long seen = occurrences[v];
            if (seen < minOccurrences) continue;
            long h = hits[v * experts + expert];
            if (h == 0) continue;
            double score = Score(h, seen);
            // Ids rise through the scan, so a later token that ties on score and hits never ranks higher.
            if (best.Count == count && !Ranks(score, h, best[^1])) continue;
            int at = best.Count;
            while (at > 0 && Ranks(score, h, best[at - 1])) at--;
            best.Insert(at, new SpecializedToken(v, score, h, seen));
            if (best.Count > count) best.RemoveAt(count);
        }
        return best;
    }

    /// <summary>Whether a later-scanned token (higher id) with this score and hit count ranks above <paramref name="other"/>.</summary>
    static bool Ranks(double score, long hits, SpecializedToken other) =>
        score > other.Score || (score == other.Score && hits > other.Hits);
}
