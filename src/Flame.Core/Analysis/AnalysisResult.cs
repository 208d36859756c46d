using Flame.Tracing;

namespace Flame.Analysis;

/// <summary>Everything one MoE layer's pass produced, per checkpoint (steps ascending).</summary>
public sealed class LayerAnalysis
{
    public required int Layer { get; init; }
    public SortedDictionary<long, LoadBalanceSummary> LoadBalance { get; } = [];
    /// <summary>M (symmetric counts) per checkpoint.</summary>
    public SortedDictionary<long, long[,]> CoActivationCounts { get; } = [];
    /// <summary>Saturation vs the final checkpoint, per checkpoint and k.</summary>
    public SortedDictionary<long, Dictionary<int, double>> Saturation { get; } = [];
    /// <summary>Per checkpoint, per expert: its top tokens.</summary>
    public SortedDictionary<long, List<SpecializedToken>[]> TopTokens { get; } = [];
    /// <summary>Per expert, the tokens followed (the final checkpoint's top ones), and their S at every checkpoint.</summary>
    public List<(int Expert, int Rank, int Token, SortedDictionary<long, double> Score)> Evolution { get; } = [];
}

public sealed class AnalysisResult
{
    public required string TraceFolder { get; init; }
    public required string Output { get; init; }
    public required int Experts { get; init; }
    public required int TopK { get; init; }
    public required long Tokens { get; init; }
    public required IReadOnlyList<long> Checkpoints { get; init; }
    public required IReadOnlyList<int> SaturationKs { get; init; }
    public required TraceAnalyses Analyses { get; init; }
    public required List<LayerAnalysis> Layers { get; init; }
    public required List<TraceProblem> Problems { get; init; }
    /// <summary>Token id to display text (empty when no tokenizer is known).</summary>
    public required Func<int, string> TokenText { get; init; }
    /// <summary>Nothing at all could be read (every file a problem): the command fails rather than write empty tables as a success.</summary>
    public bool NothingRead => TokenLayers == 0 && Problems.Count > 0;
    public double Seconds { get; set; }
    /// <summary>Routing rows read: tokens x layers x checkpoints actually analysed.</summary>
    public long TokenLayers { get; set; }
}
