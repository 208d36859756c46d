namespace Flame.Data.Samples;

/// <summary>
/// How a token stream is cut into samples: sequence length (samples hold one more token), which split,
/// the split weights (90/5/5), the shuffle seed (1234), and how many samples (null: one pass over the split).
/// </summary>
public sealed record GptSampleOptions(int SequenceLength, SplitName Split = SplitName.Train, IReadOnlyList<double>? SplitWeights = null, long Seed = 1234, long? Samples = null)
{
    public IReadOnlyList<double> Weights => SplitWeights ?? DatasetSplit.Default;
}
