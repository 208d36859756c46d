using System.Numerics;

namespace Flame.Analysis;

/// <summary>
/// Router saturation (spec §5): for checkpoint t and k, the mean over tokens of
/// |TopK_t(x) ∩ TopK_final(x)| / k, TopK being the first k of the sorted top-k list.
/// </summary>
public static class RouterSaturation
{
    public static readonly int[] DefaultKs = [1, 2, 4, 6];

    /// <summary>|a[..k] ∩ b[..k]| for one token.</summary>
    public static int Overlap(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int k)
    {
        int hits = 0;
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (a[i] == b[j]) { hits++; break; }
        return hits;
    }

    /// <summary>Adds, for each k of <paramref name="ks"/> (ascending), the overlaps of every row with the final checkpoint's row.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(ReadOnlySpan<int> rows, ReadOnlySpan<int> final, int topK, int experts, IReadOnlyList<int> ks, long[] hits)
    {
        int n = rows.Length / topK;
        if (experts <= 64)
        {
            // Bit masks of each prefix: one pass over the k ids, one popcount at each prefix length in ks.
            // kIndexAt[a] is the position in ks of k = a + 1, or -1 (read from an array, not the interface, in the loop).
            Span<int> kIndexAt = stackalloc int[topK];
            kIndexAt.Fill(-1);
            int longest = 0;
            for (int ki = 0; ki < ks.Count; ki++)
                if (ks[ki] >= 1 && ks[ki] <= topK) { kIndexAt[ks[ki] - 1] = ki; longest = Math.Max(longest, ks[ki]); }
            for (int r = 0, o = 0; r < n; r++, o += topK)
            {
                ulong fm = 0, cm = 0;
                for (int a = 0; a < longest; a++)
                {
                    fm |= 1UL << final[o + a];
                    cm |= 1UL << rows[o + a];
                    int ki = kIndexAt[a];
                    if (ki >= 0) hits[ki] += BitOperations.PopCount(fm & cm);
                }
            }
            return;
        }
        for (int r = 0, o = 0; r < n; r++, o += topK)
            for (int ki = 0; ki < ks.Count; ki++)
                hits[ki] += Overlap(rows.Slice(o, topK), final.Slice(o, topK), ks[ki]);
    }
}
