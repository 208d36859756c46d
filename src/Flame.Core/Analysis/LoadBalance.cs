namespace Flame.Analysis;

/// <summary>How evenly one layer's router spreads tokens over its experts at one checkpoint.</summary>
/// <param name="Share">per expert: its top-k assignments over all assignments (tokens x k); sums to 1.</param>
/// <param name="Entropy">-sum share ln share, in nats; ln(experts) when perfectly balanced.</param>
/// <param name="NormalizedEntropy">entropy / ln(experts): 1 is perfect balance.</param>
/// <param name="CoefficientOfVariation">population standard deviation of the per-expert counts over their mean; 0 is perfect balance.</param>
public sealed record LoadBalanceSummary(long Tokens, long[] Counts, double[] Share, double Entropy, double NormalizedEntropy,
    double CoefficientOfVariation, double MaxShare);

public static class LoadBalance
{
    /// <param name="counts">per expert, the tokens that had it in their top-k.</param>
    public static LoadBalanceSummary Summarize(long[] counts, long tokens)
    {
        int experts = counts.Length;
        double total = counts.Sum();
        var share = counts.Select(c => total > 0 ? c / total : 0).ToArray();
        double entropy = -share.Where(p => p > 0).Sum(p => p * Math.Log(p));
        double mean = total / experts;
        double variance = counts.Sum(c => (c - mean) * (c - mean)) / experts;
        return new LoadBalanceSummary(tokens, counts, share, entropy, experts > 1 ? entropy / Math.Log(experts) : 1,
            mean > 0 ? Math.Sqrt(variance) / mean : 0, share.Length == 0 ? 0 : share.Max());
    }
}
