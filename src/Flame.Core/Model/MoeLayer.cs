using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>One MoE layer's output: the mixed hidden states, its routing decisions and its auxiliary losses.</summary>
/// <param name="Output">[batch, seq, h]</param>
/// <param name="Routing">top-k ids and gates per token, flattened over (batch, seq) in row-major order.</param>
/// <param name="LoadBalancingLoss">scalar, already multiplied by its coefficient.</param>
/// <param name="ZLoss">scalar, already multiplied by its coefficient.</param>
public sealed record MoeOutput(Tensor Output, RouterOutput Routing, Tensor LoadBalancingLoss, Tensor ZLoss);

/// <summary>
/// FLAME-MoE's MoE FFN (spec §1): y = sum_{i in top-k} p_i E_i(x) + Shared(x), with the fp32 softmax
/// router over all experts, unnormalised top-k gates, dropless dispatch, and one ungated shared expert.
/// </summary>
public sealed class MoeLayer : nn.Module<Tensor, MoeOutput>
{
    readonly ModelConfig _config;
    public readonly TopKRouter router;
    public readonly RoutedExperts experts;
    public readonly SwiGluFfn? shared_expert;

    public DispatchMode Dispatch { get; set; } = DispatchMode.Grouped;

    /// <summary>Phase marks for profiling (null: none); handed on to the routed experts.</summary>
    public IPhaseProbe? Probe
    {
        get => experts.Probe;
        set => experts.Probe = value;
    }

    public MoeLayer(ModelConfig config) : base(nameof(MoeLayer))
    {
        _config = config;
        router = new TopKRouter(config.Hidden, config.Experts, config.TopK);
        experts = new RoutedExperts(config.Hidden, config.Experts, config.ExpertFfn);
        if (config.SharedExpertFfn > 0) shared_expert = new SwiGluFfn(config.Hidden, config.SharedExpertFfn);
        RegisterComponents();
    }

    public override MoeOutput forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var flat = x.reshape(-1, x.shape[^1]);
        var dispatched = Probe.Mark(flat, StepPhase.MoeDispatch);
        var routing = router.forward(dispatched);
        var mixed = Probe.Mark(experts.Forward(dispatched, routing.Indices, routing.Gates, Dispatch), StepPhase.Other);
        if (shared_expert is not null)
            mixed = mixed + Probe.Mark(shared_expert.forward(Probe.Mark(flat, StepPhase.SharedFfn)), StepPhase.Other);
        var balance = RoutingLosses.LoadBalancing(routing.Probs, routing.Indices, _config.AuxLossCoeff);
        var z = RoutingLosses.ZLoss(routing.Logits, _config.ZLossCoeff);
        return new MoeOutput(
            mixed.view(x.shape).MoveToOuterDisposeScope(),
            new RouterOutput(routing.Logits.MoveToOuterDisposeScope(), routing.Probs.MoveToOuterDisposeScope(),
                routing.Gates.MoveToOuterDisposeScope(), routing.Indices.MoveToOuterDisposeScope()),
            balance.MoveToOuterDisposeScope(), z.MoveToOuterDisposeScope());
    }
}
