namespace Flame.Data.Indexed;

/// <summary>What `flame data inspect` shows: counts, length statistics, and a histogram of document lengths in powers of two.</summary>
public sealed record IndexedDatasetSummary(
    string Prefix, IndexedDType DType, long Documents, long Sequences, long Tokens,
    int MinLength, int MaxLength, double MeanLength, IReadOnlyList<(int From, int To, long Count)> Histogram)
{
    public static IndexedDatasetSummary Of(IndexedDatasetReader data)
    {
        // Bucket b holds lengths in [2^(b-1), 2^b), bucket 0 the empty sequences.
        var buckets = new long[33];
        int min = int.MaxValue, max = 0;
        for (long i = 0; i < data.SequenceCount; i++)
        {
            int n = data.SequenceLength(i);
            min = Math.Min(min, n);
            max = Math.Max(max, n);
            buckets[n == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)n)]++;
        }
        var histogram = new List<(int, int, long)>();
        for (int b = 0; b < buckets.Length; b++)
            if (buckets[b] > 0) histogram.Add((b == 0 ? 0 : 1 << (b - 1), b == 0 ? 0 : (int)Math.Min(int.MaxValue, (1L << b) - 1), buckets[b]));
        double mean = data.SequenceCount > 0 ? (double)data.TokenCount / data.SequenceCount : 0;
        return new IndexedDatasetSummary(data.Prefix, data.DType, data.DocumentCount, data.SequenceCount, data.TokenCount,
            data.SequenceCount > 0 ? min : 0, max, mean, histogram);
    }
}
