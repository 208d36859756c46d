using Flame.Analysis;

namespace Flame.Tests.Analysis;

/// <summary>Each formula of spec §5 (and load balance) against values worked out by hand.</summary>
public class FormulaTests
{
    [Fact]
    public void LoadBalanceShareEntropyAndCoefficientOfVariation()
    {
        // 2 tokens, k = 2, 4 experts: expert 0 got 3 assignments, expert 1 got 1.
        var s = LoadBalance.Summarize([3, 1, 0, 0], tokens: 2);
        Assert.Equal([0.75, 0.25, 0, 0], s.Share);
        double entropy = -(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25));   // 0.562335
        Assert.Equal(entropy, s.Entropy, 12);
        Assert.Equal(entropy / Math.Log(4), s.NormalizedEntropy, 12);
        // mean 1, variance ((3-1)^2 + 0 + 1 + 1) / 4 = 1.5
        Assert.Equal(Math.Sqrt(1.5), s.CoefficientOfVariation, 12);
        Assert.Equal(0.75, s.MaxShare);
        var even = LoadBalance.Summarize([5, 5, 5, 5], 10);
        Assert.Equal(0, even.CoefficientOfVariation);
        Assert.Equal(1, even.NormalizedEntropy, 12);
    }

    [Fact]
    public void CoActivationIsRowNormalisedWithAZeroDiagonal()
    {
        // k = 2, 3 experts; tokens routed to {0,1}, {0,2}, {1,0}.
        var m = new long[9];
        CoActivation.Count([0, 1, 0, 2, 1, 0], 2, 3, m);
        var full = CoActivation.ToMatrix(m, 3);
        Assert.Equal(new long[,] { { 3, 2, 1 }, { 2, 2, 0 }, { 1, 0, 1 } }, full);
        var coact = CoActivation.Normalize(full);
        Assert.Equal(new double[,] { { 0, 2.0 / 3, 1.0 / 3 }, { 1, 0, 0 }, { 1, 0, 0 } }, coact);
        // Row maxima: 2/3, 1, 1: experts 1 and 2 lead (ties by id).
        Assert.Equal([1, 2], CoActivation.MostCoActivated(coact, 2));
        Assert.Equal(new double[,] { { 0, 0 }, { 0, 0 } }, CoActivation.Submatrix(coact, [1, 2]));
    }

    [Theory]
    [InlineData(8)]     // bit-mask path (experts <= 64)
    [InlineData(100)]   // plain loop for more experts
    public void SaturationAtEachKIsTheMeanPrefixOverlapWithTheFinalCheckpoint(int experts)
    {
        int[] final = [0, 1, 2, 3, 4, 5];
        int[] checkpoint = [1, 0, 5, 3, 7, 4];
        var hits = new long[3];
        RouterSaturation.Accumulate(checkpoint, final, 3, experts, [1, 2, 3], hits);
        // k=1: {1}&{0} = 0, {3}&{3} = 1 -> (0 + 1) / 2 = 0.5
        // k=2: {1,0}&{0,1} = 2, {3,7}&{3,4} = 1 -> (2/2 + 1/2) / 2 = 0.75
        // k=3: {1,0,5}&{0,1,2} = 2, {3,7,4}&{3,4,5} = 2 -> 2/3
        Assert.Equal([1, 3, 4], hits);
        Assert.Equal(0.5, hits[0] / (2.0 * 1));
        Assert.Equal(0.75, hits[1] / (2.0 * 2));
        Assert.Equal(2.0 / 3, hits[2] / (2.0 * 3), 12);
        Assert.Equal(2, RouterSaturation.Overlap([1, 0, 5], [0, 1, 2], 3));
    }

    [Fact]
    public void SpecializationIsTheShareOfATokensOccurrencesRoutedToTheExpert()
    {
        // k = 2, 4 experts. Token 7 occurs 5 times, 4 of them with expert 2; token 9 occurs 4 times (too rare).
        int[] tokens = [7, 7, 7, 7, 7, 9, 9, 9, 9];
        int[] rows = [2, 0, 2, 1, 1, 2, 2, 3, 0, 3, 2, 0, 2, 1, 2, 3, 2, 3];
        var hits = new int[10 * 4];
        Specialization.Count(rows, tokens, 2, 4, hits);
        var occurrences = new long[10];
        foreach (var t in tokens) occurrences[t]++;
        Assert.Equal(4, hits[7 * 4 + 2]);
        var top = Specialization.TopTokens(hits, occurrences, expert: 2, experts: 4, count: 5);
        Assert.Equal([new SpecializedToken(7, 0.8, 4, 5)], top);                 // token 9 (S = 1) is seen only 4 times
        Assert.Equal([new SpecializedToken(9, 1.0, 4, 4), new SpecializedToken(7, 0.8, 4, 5)],
            Specialization.TopTokens(hits, occurrences, 2, 4, 5, minOccurrences: 4));
        Assert.Equal(0.4, Specialization.TopTokens(hits, occurrences, 0, 4, 1)[0].Score);     // token 7 with expert 0: 2 of 5
    }

    [Fact]
    public void TopTokensRankLikeAFullSortIncludingTies()
    {
        // Small counts make many equal scores and equal hits, so every tie-break is exercised.
        var random = new Random(7);
        const int vocab = 400, experts = 3;
        var occurrences = Enumerable.Range(0, vocab).Select(_ => (long)random.Next(0, 9)).ToArray();
        var hits = new int[vocab * experts];
        for (int v = 0; v < vocab; v++)
            for (int e = 0; e < experts; e++) hits[v * experts + e] = random.Next(0, (int)occurrences[v] + 1);
        for (int e = 0; e < experts; e++)
            foreach (int count in new[] { 1, 5, 40 })
            {
                var sorted = Enumerable.Range(0, vocab).Where(v => occurrences[v] >= 5 && hits[v * experts + e] > 0)
                    .Select(v => new SpecializedToken(v, (double)hits[v * experts + e] / occurrences[v], hits[v * experts + e], occurrences[v]))
                    .OrderByDescending(t => t.Score).ThenByDescending(t => t.Hits).ThenBy(t => t.Token).Take(count).ToList();
                Assert.Equal(sorted, Specialization.TopTokens(hits, occurrences, e, experts, count));
            }
    }
}
