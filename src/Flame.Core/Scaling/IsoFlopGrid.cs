using Flame.Model;

namespace Flame.Scaling;

/// <summary>FLAME-MoE's IsoFLOP study (spec §3): 16 architectures, each trained at 5 FLOP budgets.</summary>
public static class IsoFlopGrid
{
    public static readonly IReadOnlyList<double> Budgets = [1e18, 3e18, 6e18, 1e19, 3e19];

    // (hidden, dense F, expert F_exp, layer counts) as spec §3 lists them.
    static readonly (int Hidden, int Ffn, int ExpertFfn, int[] Layers)[] Shapes =
    [
        (256, 1368, 176, [6, 9]),
        (512, 2736, 352, [6, 9, 12]),
        (768, 4104, 528, [6, 9, 12]),
        (1024, 5472, 704, [12, 15, 18]),
        (1536, 8208, 1056, [12, 15, 18]),
        (2048, 10944, 1408, [15, 18]),
    ];

    /// <summary>The 16 architectures, named like <c>L9-h256</c>, built exactly like the flame-moe presets.</summary>
    public static readonly IReadOnlyList<ModelConfig> Architectures =
        Shapes.SelectMany(s => s.Layers.Select(l => ModelPresets.FlameMoe(Name(l, s.Hidden), l, s.Hidden, s.Ffn, s.ExpertFfn)))
              .ToArray();

    public static string Name(int layers, int hidden) => $"L{layers}-h{hidden}";
}
