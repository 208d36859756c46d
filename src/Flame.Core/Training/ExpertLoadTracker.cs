using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>One MoE layer's expert load over a logging interval.</summary>
/// <param name="Layer">0-based transformer layer index.</param>
/// <param name="MaxOverMean">the busiest expert's token count over the mean count (1 = perfectly balanced).</param>
/// <param name="Entropy">entropy of the token share across experts, in nats (ln E when balanced).</param>
public sealed record ExpertLoad(int Layer, double MaxOverMean, double Entropy);

/// <summary>
/// Counts, on the device, how many routed slots each expert of each MoE layer received since the last log,
/// so the per-layer load (spec §5's load balance, live) costs one host read per logging interval.
/// </summary>
public sealed class ExpertLoadTracker(ModelConfig config, Device device) : IDisposable
{
    readonly int[] _layers = Enumerable.Range(0, config.Layers).Where(config.IsMoeLayer).ToArray();
    Tensor _counts = zeros(Math.Max(1, config.MoeLayerCount), Math.Max(1, config.Experts), dtype: ScalarType.Int64, device: device);

    public void Add(IReadOnlyList<MoeOutput> moe)
    {
        if (moe.Count == 0) return;
        using var scope = NewDisposeScope();
        var counts = stack(moe.Select(m => RoutingLosses.ExpertCounts(m.Routing.Indices, config.Experts)));
        _counts.add_(counts);
    }

    /// <summary>Adds up the counts of every rank (expert load over the whole global batch) before a summary.</summary>
    public void SumOver(Action<Tensor> allReduceSum) => allReduceSum(_counts);

    /// <summary>Reads the counts back (one host transfer), summarises each layer and starts a new interval.</summary>
    public IReadOnlyList<ExpertLoad> TakeSummary()
    {
        if (_layers.Length == 0) return [];
        var counts = _counts.cpu().data<long>().ToArray();
        _counts.zero_();
        int experts = config.Experts;
        return _layers.Select((layer, row) =>
        {
            var slice = new ReadOnlySpan<long>(counts, row * experts, experts);
            return Summarise(layer, slice);
        }).ToList();
    }

    public static ExpertLoad Summarise(int layer, ReadOnlySpan<long> counts)
    {
        double total = 0, max = 0;
        foreach (var c in counts) { total += c; max = Math.Max(max, c); }
        if (total == 0) return new ExpertLoad(layer, double.NaN, double.NaN);
        double entropy = 0;
        foreach (var c in counts)
            if (c > 0) entropy -= c / total * Math.Log(c / total);
        return new ExpertLoad(layer, max / (total / counts.Length), entropy);
    }

    public void Dispose() => _counts.Dispose();
}
