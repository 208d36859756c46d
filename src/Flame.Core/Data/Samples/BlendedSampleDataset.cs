namespace Flame.Data.Samples;

/// <summary>
/// Several sample sources mixed by weight, as Megatron's BlendedDataset: sample i goes to the source
/// furthest behind its share (weight * i minus what it has had; ties to the first), and takes that source's
/// next sample. Deterministic, so sample i is still a pure function of i.
/// </summary>
public sealed class BlendedSampleDataset : ISampleSource
{
    readonly IReadOnlyList<ISampleSource> _sources;
    readonly byte[] _source;
    readonly long[] _sourceSample;

    public int SequenceLength { get; }
    public long Count { get; }

    public BlendedSampleDataset(IReadOnlyList<(ISampleSource Source, double Weight)> parts, long count)
    {
        if (parts.Count is 0 or > 255) throw new UserError($"blending needs 1 to 255 datasets, got {parts.Count}");
        if (parts.Any(p => !(p.Weight > 0))) throw new UserError("blend weights must be positive");
        SequenceLength = parts[0].Source.SequenceLength;
        if (parts.Any(p => p.Source.SequenceLength != SequenceLength)) throw new UserError("blended datasets must share one sequence length");
        _sources = parts.Select(p => p.Source).ToArray();
        double total = parts.Sum(p => p.Weight);
        var weights = parts.Select(p => p.Weight / total).ToArray();
        Count = count;
        _source = new byte[count];
        _sourceSample = new long[count];
        var taken = new long[parts.Count];
        for (long i = 0; i < count; i++)
        {
            int best = 0;
            double bestError = double.NegativeInfinity;
            for (int s = 0; s < weights.Length; s++)
            {
                double error = weights[s] * Math.Max(i, 1) - taken[s];
                if (error > bestError) { bestError = error; best = s; }
            }
            _source[i] = (byte)best;
            _sourceSample[i] = taken[best]++;
        }
        for (int s = 0; s < taken.Length; s++)
            if (taken[s] > _sources[s].Count)
                throw new UserError($"dataset {s + 1} of the blend has {_sources[s].Count} samples but its weight asks for {taken[s]}; give it more samples (epochs) or less weight");
    }

    public void GetSample(long i, Span<int> destination)
    {
        if ((ulong)i >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"sample index outside [0, {Count})");
        _sources[_source[i]].GetSample(_sourceSample[i], destination);
    }
}
