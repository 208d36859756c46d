using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>The two auxiliary losses of each MoE layer (spec §1).</summary>
public static class RoutingLosses
{
    /// <summary>
    /// Switch/GShard load balancing: coeff * E * sum_i (sum_t P_ti) * f_i / (T^2 * k), with P the full
    /// softmax and f_i the number of tokens whose top-k holds expert i (a count, so no gradient flows through it).
    /// </summary>
    public static Tensor LoadBalancing(Tensor probs, Tensor indices, double coeff)
    {
        using var scope = NewDisposeScope();
        long tokens = probs.shape[0], experts = probs.shape[1], k = indices.shape[1];
        var counts = ExpertCounts(indices, experts).to(ScalarType.Float32);
        var probabilityMass = probs.sum(dim: 0);
        var loss = (probabilityMass * counts).sum() * (coeff * experts / ((double)tokens * tokens * k));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>Router z-loss: coeff * mean_t(logsumexp(logits_t)^2).</summary>
    public static Tensor ZLoss(Tensor logits, double coeff)
    {
        using var scope = NewDisposeScope();
        return (logits.logsumexp(-1).square().mean() * coeff).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Tokens routed to each expert, [experts] int64. scatter_add rather than bincount: bincount on CUDA
    /// reads the maximum back to the host, a synchronisation per layer per step.
    /// </summary>
    public static Tensor ExpertCounts(Tensor indices, long experts)
    {
        var flat = indices.flatten();
        return zeros(experts, dtype: ScalarType.Int64, device: indices.device)
            .scatter_add_(0, flat, ones_like(flat, dtype: ScalarType.Int64));
    }
}
