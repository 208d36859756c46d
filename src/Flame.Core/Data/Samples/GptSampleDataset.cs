using Flame.Data.Indexed;

namespace Flame.Data.Samples;

/// <summary>
/// Megatron's GPT training stream over one indexed dataset: the split's documents (sequences of the .idx,
/// one per document in what prepare writes) in a seeded order per epoch, concatenated (each already ends
/// in the end-of-document id) and cut into samples of SequenceLength + 1 tokens, consecutive samples
/// sharing one token as in Megatron; then the samples themselves are shuffled with the seed. Sample i's
/// tokens are a pure function of (data, options, i), so a resumed run continues exactly.
/// </summary>
public sealed class GptSampleDataset : ISampleSource
{
    readonly IndexedDatasetReader _data;
    readonly long[] _documentOrder;   // sequence index of each position in the concatenated stream
    readonly long[] _startToken;      // token offset of each position in the stream, plus the total at the end
    readonly long[] _sampleOrder;

    public int SequenceLength { get; }
    public long Count { get; }
    public int Epochs { get; }
    public (long Start, long End) Documents { get; }

    public GptSampleDataset(IndexedDatasetReader data, GptSampleOptions options)
    {
        if (options.SequenceLength < 1) throw new UserError($"sequence length {options.SequenceLength} must be positive");
        _data = data;
        SequenceLength = options.SequenceLength;
        Documents = DatasetSplit.Range(data.SequenceCount, options.Weights, options.Split);
        var (start, end) = Documents;
        long epochTokens = 0;
        for (long d = start; d < end; d++) epochTokens += data.SequenceLength(d);
        long perEpoch = epochTokens > 0 ? (epochTokens - 1) / SequenceLength : 0;
        if (perEpoch == 0 || (options.Samples ?? 1) < 1)
            throw new UserError($"{data.Prefix}: the {options.Split.ToString().ToLowerInvariant()} split holds {end - start} documents, {epochTokens} tokens, not enough for one sample of {SequenceLength + 1} tokens");
        // Enough epochs that the concatenated stream holds the samples asked for.
        double epochs = options.Samples is long wanted ? Math.Max(1, Math.Ceiling(((double)wanted * SequenceLength + 1) / epochTokens)) : 1;
        long documents = end - start;
        // The stream's document order is one array: more samples than that can index exceed the data (named, not an overflow).
        if (epochs * documents > Array.MaxLength)
            throw new UserError($"{data.Prefix}: {options.Samples:N0} samples of {SequenceLength} tokens need {epochs:G4} epochs of the " +
                $"{options.Split.ToString().ToLowerInvariant()} split's {epochTokens:N0} tokens in {documents:N0} documents, more than a training stream can index; ask for fewer iterations or give more data");
        Epochs = (int)epochs;
        _documentOrder = new long[documents * Epochs];
        _startToken = new long[_documentOrder.Length + 1];
        for (int e = 0; e < Epochs; e++)
        {
            var order = SeededPermutation.Create(documents, options.Seed, stream: e);
            for (long k = 0; k < documents; k++)
            {
                long position = e * documents + k;
                _documentOrder[position] = start + order[k];
                _startToken[position + 1] = _startToken[position] + data.SequenceLength(start + order[k]);
            }
        }
        long available = (_startToken[^1] - 1) / SequenceLength;
        Count = options.Samples ?? available;
        _sampleOrder = SeededPermutation.Create(Count, options.Seed, stream: -1 - (int)options.Split);
    }

    public void GetSample(long i, Span<int> destination)
    {
        if ((ulong)i >= (ulong)Count) throw new ArgumentOutOfRangeException(nameof(i), i, $"sample index outside [0, {Count})");
        if (destination.Length != SequenceLength + 1) throw new ArgumentException($"destination holds {destination.Length} tokens, a sample {SequenceLength + 1}");
        long token = _sampleOrder[i] * SequenceLength;
        // The stream position whose document holds the sample's first token.
        int found = Array.BinarySearch(_startToken, token);
        long position = found >= 0 ? found : ~found - 1;
        int filled = 0;
        while (filled < destination.Length)
        {
            while (_startToken[position + 1] == _startToken[position]) position++; // empty documents
            int offset = (int)(token + filled - _startToken[position]);
            int take = (int)Math.Min(destination.Length - filled, _startToken[position + 1] - _startToken[position] - offset);
            _data.ReadTokens(_documentOrder[position], offset, destination.Slice(filled, take));
            filled += take;
            position++;
        }
    }
}
