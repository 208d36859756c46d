using Flame.Model;

namespace Flame.Scaling;

/// <summary>
/// The micro-batch FLAME-MoE trained each architecture with (spec §7): the release presets as in
/// scripts/release/*.sh, the IsoFLOP grid's architectures as in scripts/ablation/search.sh (by hidden size, and
/// for h 512 by depth). Only memory per GPU differs with it; the global batch, and so the maths, does not.
/// </summary>
public static class OriginalMicroBatches
{
    static readonly Dictionary<string, int> Released = new()
    {
        ["flame-moe-38m"] = 32, ["flame-moe-98m"] = 32, ["flame-moe-115m"] = 16, ["flame-moe-290m"] = 8,
        ["flame-moe-419m"] = 8, ["flame-moe-721m"] = 8, ["flame-moe-1.7b"] = 4, ["dclm-411m"] = 8, ["dclm-1b"] = 4,
    };

    /// <summary>The original's micro-batch for a release preset or a grid architecture (L9-h256, ...), else null.</summary>
    public static int? For(ModelConfig model)
    {
        if (Released.TryGetValue(model.Name, out var released)) return released;
        if (model.Name != IsoFlopGrid.Name(model.Layers, model.Hidden)) return null;
        return model.Hidden switch
        {
            256 => 32,
            512 => model.Layers >= 12 ? 16 : 32,
            768 => 16,
            1024 => 8,
            1536 => 4,
            2048 => 1,
            _ => null,
        };
    }
}
