using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// Spec §1 initialisation: every weight matrix normal(0, 0.02); the two output projections of each block
/// (attention out and every FFN down projection: dense, routed experts and shared expert) normal(0, 0.02/sqrt(2L));
/// RMSNorm weights 1.
/// </summary>
public static class ModelInitializer
{
    /// <summary>Initialises any module of a model built from <paramref name="c"/> (the whole model or one layer).</summary>
    public static void Initialize(nn.Module module, ModelConfig c)
    {
        double std = c.InitStd, outputStd = c.InitStd / Math.Sqrt(2.0 * c.Layers);
        using var noGrad = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            if (name.EndsWith("norm.weight")) continue; // stays 1
            bool isOutputProjection = name.EndsWith("attention.proj") || name.EndsWith(".down");
            nn.init.normal_(p, 0, isOutputProjection ? outputStd : std);
        }
    }
}
