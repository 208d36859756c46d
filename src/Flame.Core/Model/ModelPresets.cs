namespace Flame.Model;

/// <summary>The named models: FLAME-MoE's seven sizes and two dense baselines (spec §1), and a CPU demo.</summary>
public static class ModelPresets
{
    /// <summary>A FLAME-MoE shape (spec §1): 64 experts, top-6, shared = 2*F_exp, first layer dense, 16 heads.</summary>
    internal static ModelConfig FlameMoe(string name, int layers, int hidden, int denseFfn, int expertFfn) => new()
    {
        Name = name, Layers = layers, Hidden = hidden, Heads = 16, DenseFfn = denseFfn,
        Experts = 64, TopK = 6, ExpertFfn = expertFfn, SharedExpertFfn = 2 * expertFfn, DenseLayers = [0],
    };

    static ModelConfig Dense(string name, int layers, int hidden, int ffn, int heads) => new()
    {
        Name = name, Layers = layers, Hidden = hidden, Heads = heads, DenseFfn = ffn,
        Experts = 0, TopK = 0, ExpertFfn = 0, SharedExpertFfn = 0, DenseLayers = Enumerable.Range(0, layers).ToArray(),
    };

    /// <summary>
    /// Small enough to train usefully on a 2-core CPU with the demo tokenizer (8192 tokens), yet FLAME-shaped:
    /// first layer dense, then MoE layers with 64 experts, top-6 routing and a shared expert twice the expert width.
    /// </summary>
    public static readonly ModelConfig Demo = new()
    {
        Name = "demo", Layers = 4, Hidden = 128, Heads = 4, DenseFfn = 352,
        Experts = 64, TopK = 6, ExpertFfn = 32, SharedExpertFfn = 64, DenseLayers = [0],
        VocabSize = 8192, MaxPositions = 256,
    };

    public static readonly IReadOnlyList<ModelConfig> All =
    [
        Demo,
        FlameMoe("flame-moe-38m", 9, 256, 1368, 176),
        FlameMoe("flame-moe-98m", 9, 512, 2736, 352),
        FlameMoe("flame-moe-115m", 12, 512, 2736, 352),
        FlameMoe("flame-moe-290m", 9, 1024, 5472, 704),
        FlameMoe("flame-moe-419m", 15, 1024, 5472, 704),
        FlameMoe("flame-moe-721m", 12, 1536, 8208, 1056),
        FlameMoe("flame-moe-1.7b", 18, 2048, 10944, 1408),
        Dense("dclm-411m", 24, 1024, 2816, 8),
        Dense("dclm-1b", 24, 2048, 5632, 16),
    ];

    public static IEnumerable<string> Names => All.Select(p => p.Name);

    public static ModelConfig Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UserError($"unknown preset '{name}'; valid presets: {string.Join(", ", Names)}");
}
