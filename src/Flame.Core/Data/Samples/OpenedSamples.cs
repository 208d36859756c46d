namespace Flame.Data.Samples;

/// <summary>A training stream together with the memory-mapped datasets it reads; disposing closes them.</summary>
public sealed class OpenedSamples(ISampleSource samples, IReadOnlyList<IDisposable> datasets) : ISampleSource, IDisposable
{
    public int SequenceLength => samples.SequenceLength;
    public long Count => samples.Count;
    public void GetSample(long i, Span<int> destination) => samples.GetSample(i, destination);

    public void Dispose()
    {
        foreach (var d in datasets) d.Dispose();
    }
}
