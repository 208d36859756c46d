using System.Runtime.CompilerServices;

namespace Flame.Data.Tokenization;

/// <summary>Which adjacent pair of symbols merges, and into what: a BPE merge table or tiktoken's ranks.</summary>
public interface IMergeRule
{
    /// <summary>The pair (left, right), spanning units [start, end) of the piece, merges with this rank into this id.</summary>
    bool TryMerge(int leftId, int rightId, int start, int end, out int rank, out int mergedId);
}

/// <summary>
/// Byte-pair merging in O(n log n): symbols in a linked list, candidate pairs in a binary heap ordered by
/// (rank, position), stale entries skipped when they surface. It applies the same merge as the plain loop
/// (the lowest rank present, the leftmost on ties) at every step, so the ids are identical; the plain loop,
/// and the library's removal of merged symbols from an array, are quadratic: one 1 MB piece without
/// whitespace took minutes.
/// </summary>
public static class MergeQueue
{
    const int None = int.MaxValue;

    /// <summary>One symbol of the piece, kept together so that a merge touches one cache line per symbol (1 MB pieces outgrow the cache).</summary>
    struct Symbol
    {
        public int Id, End, Next, Prev;
        public int Rank;   // rank of the pair starting here, None when there is none (or this symbol was merged away)
        public int Merged; // what that pair merges into
    }

    // Optimized from the start: the loop runs once per long piece, often once per process, so tier-0 code would run most of it.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Encode<TRule>(ReadOnlySpan<int> unitIds, TRule rule, List<int> output) where TRule : IMergeRule
    {
        int n = unitIds.Length;
        var symbols = new Symbol[n];
        for (int i = 0; i < n; i++) symbols[i] = new Symbol { Id = unitIds[i], End = i + 1, Next = i + 1 < n ? i + 1 : -1, Prev = i - 1, Rank = None };
        // A heap of (rank << 32 | position): the position is the key's low half, so one long is the whole entry.
        var heap = new PairHeap(n);
        for (int i = 0; i + 1 < n; i++)
            if (rule.TryMerge(symbols[i].Id, symbols[i + 1].Id, i, i + 2, out int rank, out int merged))
            {
                symbols[i].Rank = rank;
                symbols[i].Merged = merged;
                heap.AddUnordered(Key(rank, i));
            }
        heap.Order();
        while (heap.TryPop(out long key))
        {
            int at = (int)(uint)key;
            ref var left = ref symbols[at];
            if (left.Rank != (int)(key >> 32)) continue; // stale: the pair at `at` changed since
            ref var right = ref symbols[left.Next];
            left.Id = left.Merged;
            left.End = right.End;
            left.Next = right.Next;
            if (right.Next >= 0) symbols[right.Next].Prev = at;
            right.Rank = None;
            Consider(symbols, at, rule, ref heap);
            if (left.Prev >= 0) Consider(symbols, left.Prev, rule, ref heap);
        }
        for (int i = n > 0 ? 0 : -1; i >= 0; i = symbols[i].Next) output.Add(symbols[i].Id);
    }

    static long Key(int rank, int position) => ((long)rank << 32) | (uint)position;

    static void Consider<TRule>(Symbol[] symbols, int at, TRule rule, ref PairHeap heap) where TRule : IMergeRule
    {
        ref var left = ref symbols[at];
        if (left.Next >= 0 && rule.TryMerge(left.Id, symbols[left.Next].Id, at, symbols[left.Next].End, out int rank, out int merged))
        {
            left.Rank = rank;
            left.Merged = merged;
            heap.Push(Key(rank, at));
        }
        else left.Rank = None;
    }

    /// <summary>A binary min-heap of longs; PriorityQueue&lt;int, long&gt; stores twice the bytes and was the slower half of a 1 MB piece.</summary>
    struct PairHeap(int capacity)
    {
        long[] _items = new long[Math.Max(16, capacity)];
        int _count;

        public void AddUnordered(long key)
        {
            if (_count == _items.Length) Array.Resize(ref _items, _count * 2);
            _items[_count++] = key;
        }

        /// <summary>Heapifies what <see cref="AddUnordered"/> added, in O(n).</summary>
        public readonly void Order()
        {
            for (int i = _count / 2 - 1; i >= 0; i--) SiftDown(i, _items[i]);
        }

        public void Push(long key)
        {
            if (_count == _items.Length) Array.Resize(ref _items, _count * 2);
            int k = _count++;
            while (k > 0)
            {
                int parent = (k - 1) >> 1;
                if (_items[parent] <= key) break;
                _items[k] = _items[parent];
                k = parent;
            }
            _items[k] = key;
        }

        public bool TryPop(out long key)
        {
            if (_count == 0) { key = 0; return false; }
            key = _items[0];
            long last = _items[--_count];
            if (_count > 0) SiftDown(0, last);
            return true;
        }

        readonly void SiftDown(int k, long key)
        {
            while (true)
            {
                int child = 2 * k + 1;
                if (child >= _count) break;
                if (child + 1 < _count && _items[child + 1] < _items[child]) child++;
                if (_items[child] >= key) break;
                _items[k] = _items[child];
                k = child;
            }
            _items[k] = key;
        }
    }
}
