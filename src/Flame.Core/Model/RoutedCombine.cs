using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// The routed experts' combine as Megatron-LM's unpermute does it (megatron/core/transformer/moe/moe_utils.py
/// unpermute, FLAME-MoE's fork): the expert outputs are multiplied by the fp32 router probabilities, which
/// promotes them to fp32 (--moe-router-dtype fp32), summed over each token's k slots in fp32, and only the sum is
/// cast back to the compute dtype. In bf16 this keeps the gates unrounded and rounds once instead of k + 1 times.
/// </summary>
public static class RoutedCombine
{
    /// <param name="perSlot">[tokens, k, h] expert outputs in the compute dtype</param>
    /// <param name="gates">[tokens, k] fp32 gate weights</param>
    /// <returns>[tokens, h] in the dtype of <paramref name="perSlot"/></returns>
    public static Tensor Sum(Tensor perSlot, Tensor gates)
    {
        using var scope = NewDisposeScope();
        var weighted = perSlot.to(ScalarType.Float32) * gates.to(ScalarType.Float32).unsqueeze(-1);
        return weighted.sum(dim: 1).to(perSlot.dtype).MoveToOuterDisposeScope();
    }
}
