using Flame.Data.Indexed;
using Flame.Data.Samples;

namespace Flame.Tests.Data;

public class SampleStreamTests
{
    static string Dataset(TempFolder dir, string name, params int[][] docs)
    {
        var prefix = dir.File(name);
        using var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16);
        foreach (var d in docs) writer.AddDocument(d);
        writer.Complete();
        return prefix;
    }

    static readonly int[] Single = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0];
    static readonly GptSampleOptions AllTrain = new(3, SplitWeights: [1, 0, 0]);

    [Fact]
    public void OneDocumentIsCutIntoOverlappingWindowsOfSeqPlusOne()
    {
        using var dir = new TempFolder();
        using var data = IndexedDatasetReader.Open(Dataset(dir, "one", Single));
        var samples = new GptSampleDataset(data, AllTrain);
        // 11 tokens, seq 3: floor((11 - 1) / 3) = 3 samples starting at tokens 0, 3, 6.
        Assert.Equal(3, samples.Count);
        var got = Enumerable.Range(0, 3).Select(i => string.Join(',', samples.GetSample(i))).Order().ToArray();
        Assert.Equal(["10,11,12,13", "13,14,15,16", "16,17,18,19"], got);
    }

    [Fact]
    public void MoreSamplesThanOneEpochRepeatTheData()
    {
        using var dir = new TempFolder();
        using var data = IndexedDatasetReader.Open(Dataset(dir, "one", Single));
        var samples = new GptSampleDataset(data, AllTrain with { Samples = 7 });
        // 7 samples need 7 * 3 + 1 = 22 tokens: two passes over the 11-token document.
        Assert.Equal(2, samples.Epochs);
        var stream = Single.Concat(Single).ToArray();
        var expected = Enumerable.Range(0, 7).Select(k => string.Join(',', stream[(3 * k)..(3 * k + 4)])).Order();
        var got = Enumerable.Range(0, 7).Select(i => string.Join(',', samples.GetSample(i))).Order();
        Assert.Equal(expected, got);
    }

    [Fact]
    public void SamplesSpanDocumentsAndCoverTheStreamOnce()
    {
        using var dir = new TempFolder();
        int[][] docs = [[1, 2, 0], [3, 4, 5, 0], [6, 0], [7, 8, 9, 10, 11, 0]];
        using var data = IndexedDatasetReader.Open(Dataset(dir, "many", docs));
        var samples = new GptSampleDataset(data, new GptSampleOptions(2, SplitWeights: [1, 0, 0], Seed: 7));
        Assert.Equal((15 - 1) / 2, samples.Count);
        // Whatever the order, the samples tile a concatenation of whole documents: every token but the
        // shared boundaries appears once, so the multiset of tokens (minus overlaps) is the data's.
        var firsts = Enumerable.Range(0, (int)samples.Count).Select(i => samples.GetSample(i)).ToList();
        Assert.All(firsts, s => Assert.Equal(3, s.Length));
        var tokens = firsts.SelectMany(s => s[..2]).Order().ToArray();
        var all = docs.SelectMany(d => d).Order().ToArray();
        Assert.Equal(14, tokens.Length);
        Assert.True(all.Except(tokens).Count() <= 1); // only the last token can be left over
    }

    [Fact]
    public void SampleContentIsAPureFunctionOfDataSeedAndIndex()
    {
        using var dir = new TempFolder();
        var docs = Enumerable.Range(0, 50).Select(d => Enumerable.Range(d * 100, 5 + d % 7).Append(0).ToArray()).ToArray();
        using var data = IndexedDatasetReader.Open(Dataset(dir, "d", docs));
        var options = new GptSampleOptions(4);
        var a = new GptSampleDataset(data, options);
        var b = new GptSampleDataset(data, options);
        var forward = Enumerable.Range(0, (int)a.Count).Select(i => a.GetSample(i)).ToList();
        for (int i = (int)b.Count - 1; i >= 0; i--) Assert.Equal(forward[i], b.GetSample(i)); // any order, any instance
        var other = new GptSampleDataset(data, options with { Seed = 1235 });
        Assert.NotEqual(forward.Select(s => string.Join(',', s)), Enumerable.Range(0, (int)other.Count).Select(i => string.Join(',', other.GetSample(i))));
    }

    [Theory]
    // Megatron's rounding: 100 docs 90/5/5 -> [0,90) [90,95) [95,100).
    [InlineData(100, SplitName.Train, 0, 90)]
    [InlineData(100, SplitName.Valid, 90, 95)]
    [InlineData(100, SplitName.Test, 95, 100)]
    // 10 docs: round(9) = 9, round(0.5) = 0 twice (half to even); the missing document goes to every
    // later boundary: [0,10) [10,10) [10,10).
    [InlineData(10, SplitName.Train, 0, 10)]
    [InlineData(10, SplitName.Valid, 10, 10)]
    // 30 docs 90/5/5: 27, round(1.5) = 2, 2 -> 31 = one too many, later bounds move back: [0,26) [26,28) [28,30).
    [InlineData(30, SplitName.Train, 0, 26)]
    [InlineData(30, SplitName.Valid, 26, 28)]
    [InlineData(30, SplitName.Test, 28, 30)]
    public void SplitsByDocumentsAsMegatron(long documents, SplitName split, long start, long end) =>
        Assert.Equal((start, end), DatasetSplit.Range(documents, DatasetSplit.Default, split));

    [Fact]
    public void SplitsDrawFromDisjointDocuments()
    {
        using var dir = new TempFolder();
        var docs = Enumerable.Range(0, 20).Select(d => Enumerable.Repeat(d + 1, 9).Append(0).ToArray()).ToArray();
        using var data = IndexedDatasetReader.Open(Dataset(dir, "s", docs));
        HashSet<int> Tokens(SplitName s)
        {
            var ds = new GptSampleDataset(data, new GptSampleOptions(4, s, [80, 10, 10]));
            return Enumerable.Range(0, (int)ds.Count).SelectMany(i => ds.GetSample(i)).Where(t => t != 0).ToHashSet();
        }
        Assert.Equal(Enumerable.Range(1, 16).ToHashSet(), Tokens(SplitName.Train));
        Assert.Equal([17, 18], Tokens(SplitName.Valid).Order());
        Assert.Equal([19, 20], Tokens(SplitName.Test).Order());
    }

    sealed class Constant(int id, int seq) : ISampleSource
    {
        public int SequenceLength => seq;
        public long Count => 100;
        public void GetSample(long i, Span<int> destination) { destination.Fill(id); destination[0] = (int)i; }
    }

    [Fact]
    public void BlendFollowsMegatronsGreedyOrder()
    {
        // Weights 3:1. Sample i goes to the source with the largest weight * max(i, 1) - taken (ties: first):
        // i=0: 0.75 vs 0.25 -> A; i=1: -0.25 vs 0.25 -> B; i=2: 0.5 vs -0.5 -> A; i=3: 0.25 vs -0.25 -> A;
        // i=4: 0 vs 0 -> A; i=5: -0.25 vs 0.25 -> B; i=6: 0.5 vs -0.5 -> A; i=7: 0.25 vs -0.25 -> A.
        var blend = new BlendedSampleDataset([(new Constant(1, 2), 3.0), (new Constant(2, 2), 1.0)], 8);
        var got = Enumerable.Range(0, 8).Select(i => blend.GetSample(i)).ToList();
        Assert.Equal([1, 2, 1, 1, 1, 2, 1, 1], got.Select(s => s[1]));
        Assert.Equal([0, 0, 1, 2, 3, 1, 4, 5], got.Select(s => s[0])); // each source's samples in order
    }

    [Fact]
    public void DataPathParsesPrefixOrWeightedPairsAndOpensABlend()
    {
        using var dir = new TempFolder();
        var a = Dataset(dir, "a", Enumerable.Range(0, 10).Select(_ => new[] { 1, 1, 1, 0 }).ToArray());
        var b = Dataset(dir, "b", Enumerable.Range(0, 10).Select(_ => new[] { 2, 2, 2, 0 }).ToArray());
        Assert.Equal([(1.0, a)], DataPath.Parse([a]).Parts);
        var path = DataPath.Parse(["0.5", a, "0.5", b]);
        using (var source = path.Open(new GptSampleOptions(3, SplitWeights: [1, 0, 0], Samples: 20)))
        {
            Assert.Equal(20, source.Count);
            var firstTokens = Enumerable.Range(0, 20).Select(i => source.GetSample(i).First(t => t != 0)).ToList();
            Assert.Equal(10, firstTokens.Count(t => t == 1));
            Assert.Equal(10, firstTokens.Count(t => t == 2));
        }
        Assert.Throws<UserError>(() => DataPath.Parse(["0.5", a, "x"]));
    }

    [Fact]
    public void BatchTensorHoldsTheRequestedSamples()
    {
        using var dir = new TempFolder();
        using var data = IndexedDatasetReader.Open(Dataset(dir, "one", Single));
        var samples = new GptSampleDataset(data, AllTrain);
        using var batch = SampleBatch.ToTensor(samples, [2, 0], vocabSize: 20);
        Assert.Equal([2L, 4L], batch.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, batch.dtype);
        Assert.Equal(samples.GetSample(2).Select(t => (long)t), batch[0].data<long>().ToArray());
        Assert.Equal(samples.GetSample(0).Select(t => (long)t), batch[1].data<long>().ToArray());
    }

    [Fact]
    public void BatchWithAnIdBeyondTheVocabularyNamesTheSampleAndTheId()
    {
        using var dir = new TempFolder();
        using var data = IndexedDatasetReader.Open(Dataset(dir, "one", Single));
        var samples = new GptSampleDataset(data, AllTrain);
        // Two samples whose largest ids differ: a vocabulary that holds the first but not the second.
        var byLargest = Enumerable.Range(0, (int)samples.Count).Select(i => (Index: (long)i, Largest: samples.GetSample(i).Max()))
            .DistinctBy(s => s.Largest).OrderBy(s => s.Largest).ToArray();
        var (small, large) = (byLargest[0], byLargest[^1]);
        using var fits = SampleBatch.ToTensor(samples, [small.Index, large.Index], vocabSize: large.Largest + 1);
        var error = Assert.Throws<UserError>(() => SampleBatch.ToTensor(samples, [small.Index, large.Index], vocabSize: large.Largest));
        Assert.Contains($"sample {large.Index} holds token id {large.Largest}", error.Message);
        Assert.Contains($"at least {large.Largest + 1}", error.Message);
    }
}
