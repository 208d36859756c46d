namespace Flame.Analysis;

[Flags]
public enum TraceAnalyses
{
    None = 0,
    Specialization = 1,
    CoActivation = 2,
    Saturation = 4,
    LoadBalance = 8,
    All = Specialization | CoActivation | Saturation | LoadBalance,
}

/// <summary>Which analyses to run over a trace folder, and how (spec §5).</summary>
public sealed record AnalysisOptions
{
    public TraceAnalyses Analyses { get; init; } = TraceAnalyses.All;
    /// <summary>Routed experts per layer; default the manifest's, else FLAME-MoE's 64.</summary>
    public int? Experts { get; init; }
    /// <summary>The k values of router saturation; those above the traces' k are dropped.</summary>
    public IReadOnlyList<int> SaturationKs { get; init; } = RouterSaturation.DefaultKs;
    /// <summary>Tokens listed per expert in the specialization tables.</summary>
    public int TopTokens { get; init; } = 5;
    /// <summary>Tokens per expert followed across checkpoints (the original follows 2).</summary>
    public int TrackedTokens { get; init; } = 2;
    public int MinOccurrences { get; init; } = Specialization.MinOccurrences;
    /// <summary>Experts in the co-activation close-up (spec: 16 x 16).</summary>
    public int CoActivationView { get; init; } = 16;
    /// <summary>For decoding token ids to text: a built-in name or tokenizer.json; default the manifest's or the run's.</summary>
    public string? Tokenizer { get; init; }
    /// <summary>Output folder; default RUN/analysis, or analysis/ beside a bare trace folder.</summary>
    public string? Output { get; init; }
    public bool Plots { get; init; } = true;
    public int Parallelism { get; init; } = Environment.ProcessorCount;
}
