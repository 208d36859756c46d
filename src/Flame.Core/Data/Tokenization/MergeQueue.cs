namespace Flame.Data.Tokenization;

/// <summary>Which adjacent pair of symbols merges, and into what: a BPE merge table or tiktoken's ranks.</summary>
public interface IMergeRule
{
    /// <summary>The pair (left, right), spanning units [start, end) of the piece, merges with this rank into this id.</summary>
    bool TryMerge(int leftId, int rightId, int start, int end, out int rank, out int mergedId);
}

/// <summary>
/// Byte-pair merging in O(n log n): symbols in a linked list, candidate pairs in a priority queue ordered by
/// (rank, position), stale entries skipped when they surface. It applies the same merge as the plain loop
/// (the lowest rank present, the leftmost on ties) at every step, so the ids are identical; the plain loop,
/// and the library's removal of merged symbols from an array, are quadratic, which made one 1 MB piece
/// without whitespace take minutes (issue 15).
/// </summary>
public static class MergeQueue
{
    const int None = int.MaxValue;

    public static void Encode<TRule>(ReadOnlySpan<int> unitIds, TRule rule, List<int> output) where TRule : IMergeRule
    {
        int n = unitIds.Length;
        var id = unitIds.ToArray();
        var end = new int[n];
        var next = new int[n];
        var prev = new int[n];
        var rankAt = new int[n];   // rank of the pair starting at i, None when there is none (or i was merged away)
        var mergedAt = new int[n];
        for (int i = 0; i < n; i++) { end[i] = i + 1; next[i] = i + 1 < n ? i + 1 : -1; prev[i] = i - 1; }
        var queue = new PriorityQueue<int, long>(n);

        void Consider(int left)
        {
            int right = next[left];
            if (right >= 0 && rule.TryMerge(id[left], id[right], left, end[right], out int rank, out int merged))
            {
                rankAt[left] = rank;
                mergedAt[left] = merged;
                queue.Enqueue(left, ((long)rank << 32) | (uint)left);
            }
            else rankAt[left] = None;
        }

        for (int i = 0; i < n; i++) Consider(i);
        while (queue.TryDequeue(out int left, out long priority))
        {
            if (rankAt[left] != (int)(priority >> 32)) continue; // stale: the pair at `left` changed since
            int right = next[left];
            id[left] = mergedAt[left];
            end[left] = end[right];
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            rankAt[right] = None;
            Consider(left);
            if (prev[left] >= 0) Consider(prev[left]);
        }
        for (int i = n > 0 ? 0 : -1; i >= 0; i = next[i]) output.Add(id[i]);
    }
}
