namespace Flame.Analysis;

/// <summary>
/// Expert co-activation (spec §5): M[i][j] counts tokens whose top-k holds both i and j, M[i][i] the
/// tokens routed to i; CoAct[i][j] = M[i][j] / M[i][i] (how often i's tokens also go to j), diagonal 0.
/// </summary>
public static class CoActivation
{
    /// <summary>Adds rows of k expert ids to a flat experts x experts tally that <see cref="ToMatrix"/> turns into M.</summary>
    /// <remarks>
    /// Each unordered pair of a row is tallied once, at (row[a], row[b]) for a &lt; b, and each id once on the diagonal:
    /// k(k+1)/2 increments per token instead of k^2 (21 vs 36 for top-6; this loop was the analyses' largest cost).
    /// Which of (i, j) and (j, i) holds a pair's count depends on the top-k order (score order), so <see cref="ToMatrix"/>
    /// adds the two: M[i][j] = tally[i][j] + tally[j][i], symmetric with no branch per pair here. The ids of one row are
    /// distinct (a top-k list), so each pair of a token is counted once.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Count(ReadOnlySpan<int> rows, int k, int experts, long[] m)
    {
        for (int o = 0; o + k <= rows.Length; o += k)
        {
            var row = rows.Slice(o, k);
            for (int a = 0; a < row.Length; a++)
            {
                int line = row[a] * experts;
                m[line + row[a]]++;
                for (int b = a + 1; b < row.Length; b++) m[line + row[b]]++;
            }
        }
    }

    /// <summary>M as a 2-D array, from <see cref="Count"/>'s tally (each pair's count sits at (i, j) or (j, i)).</summary>
    public static long[,] ToMatrix(long[] m, int experts)
    {
        var full = new long[experts, experts];
        for (int i = 0; i < experts; i++)
            for (int j = 0; j < experts; j++)
                full[i, j] = i == j ? m[i * experts + i] : m[i * experts + j] + m[j * experts + i];
        return full;
    }

    /// <summary>CoAct[i][j] = M[i][j] / M[i][i], diagonal 0; a row of an expert that never fired is 0.</summary>
    public static double[,] Normalize(long[,] m)
    {
        int n = m.GetLength(0);
        var result = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                result[i, j] = i == j || m[i, i] == 0 ? 0 : (double)m[i, j] / m[i, i];
        return result;
    }

    /// <summary>CoAct at or above this is a strong pair: over 30% of one expert's tokens also go to the other.</summary>
    public const double StrongPair = 0.3;

    /// <summary>
    /// The share of ordered expert pairs (i != j) with CoAct[i][j] at or above <see cref="StrongPair"/>: how far from
    /// sparse a layer's co-activation is (a uniform router gives every pair (k - 1) / (E - 1), 0.079 for top-6 of 64).
    /// </summary>
    public static double StrongPairShare(double[,] coact)
    {
        int n = coact.GetLength(0);
        if (n < 2) return 0;
        long strong = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j && coact[i, j] >= StrongPair) strong++;
        return (double)strong / ((long)n * (n - 1));
    }

    /// <summary>The experts with the largest row maxima of CoAct, largest first (ties: lower id first).</summary>
    public static int[] MostCoActivated(double[,] coact, int count)
    {
        int n = coact.GetLength(0);
        return Enumerable.Range(0, n)
            .Select(i => (Expert: i, Max: Enumerable.Range(0, n).Max(j => coact[i, j])))
            .OrderByDescending(x => x.Max).ThenBy(x => x.Expert).Take(count).Select(x => x.Expert).ToArray();
    }

    public static double[,] Submatrix(double[,] coact, int[] experts)
    {
        var result = new double[experts.Length, experts.Length];
        for (int a = 0; a < experts.Length; a++)
            for (int b = 0; b < experts.Length; b++) result[a, b] = coact[experts[a], experts[b]];
        return result;
    }
}
