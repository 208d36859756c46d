using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Model;

/// <summary>What the router decided for a flat batch of tokens.</summary>
/// <param name="Logits">[tokens, experts], fp32.</param>
/// <param name="Probs">softmax over all experts, [tokens, experts], fp32.</param>
/// <param name="Gates">the top-k probabilities, sorted descending, NOT renormalised, [tokens, k].</param>
/// <param name="Indices">the expert ids of those gates, [tokens, k], int64.</param>
public sealed record RouterOutput(Tensor Logits, Tensor Probs, Tensor Gates, Tensor Indices);

/// <summary>
/// FLAME-MoE's router (spec §1): a bias-free linear map to expert logits computed in fp32,
/// softmax over all experts, the top-k probabilities taken as gate weights without renormalising.
/// No jitter, no router bias, no capacity.
/// </summary>
public sealed class TopKRouter : nn.Module<Tensor, RouterOutput>
{
    readonly int _topK;
    /// <summary>[experts, h], kept and applied in fp32.</summary>
    public readonly Parameter weight;

    public TopKRouter(int hidden, int experts, int topK) : base(nameof(TopKRouter))
    {
        _topK = topK;
        weight = new Parameter(empty(experts, hidden));
        RegisterComponents();
    }

    /// <param name="x">[tokens, h] in any dtype; it is upcast to fp32.</param>
    public override RouterOutput forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var logits = F.linear(x.to(ScalarType.Float32), weight.to(ScalarType.Float32));
        var probs = F.softmax(logits, dim: -1);
        var (gates, indices) = probs.topk(_topK, dim: -1, largest: true, sorted: true);
        return new RouterOutput(
            logits.MoveToOuterDisposeScope(), probs.MoveToOuterDisposeScope(),
            gates.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
    }
}
