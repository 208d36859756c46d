namespace Flame.Data.Samples;

/// <summary>Training samples of SequenceLength + 1 tokens (inputs and the shifted labels), addressed by index.</summary>
public interface ISampleSource
{
    int SequenceLength { get; }
    long Count { get; }

    /// <summary>Writes sample i's SequenceLength + 1 tokens into destination.</summary>
    void GetSample(long i, Span<int> destination);
}

public static class SampleSourceExtensions
{
    public static int[] GetSample(this ISampleSource source, long i)
    {
        var tokens = new int[source.SequenceLength + 1];
        source.GetSample(i, tokens);
        return tokens;
    }
}
