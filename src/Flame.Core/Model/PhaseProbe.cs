using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>The parts of a training step that `flame bench train --breakdown` times separately.</summary>
public enum StepPhase
{
    /// <summary>Embedding, norms, residual adds, output layer, losses: whatever no other phase claims.</summary>
    Other,
    Attention,
    /// <summary>Router, routing losses' inputs, sorting the (token, slot) pairs by expert and gathering their rows.</summary>
    MoeDispatch,
    /// <summary>The routed experts' two grouped GEMMs and their SwiGLU.</summary>
    ExpertGemm,
    /// <summary>Un-sorting the expert outputs and summing each token's k rows weighted by its gates.</summary>
    Combine,
    /// <summary>The dense FFN of the first layer and every MoE layer's shared expert.</summary>
    SharedFfn,
    /// <summary>Gradient clipping, the optimizer step and refreshing the weight casts.</summary>
    Optimizer,
}

/// <summary>
/// Marks phase boundaries inside the forward pass: from the tensor handed to <see cref="Enter"/> on, the ops
/// belong to <paramref name="phase"/>. An implementation may return a tensor wrapped so that the backward
/// pass marks the boundary too. Null (the default everywhere) costs nothing.
/// </summary>
public interface IPhaseProbe
{
    Tensor Enter(Tensor x, StepPhase phase);

    /// <summary>A boundary outside the model's forward (the optimizer).</summary>
    void Begin(StepPhase phase);
}

public static class PhaseProbeExtensions
{
    public static Tensor Mark(this IPhaseProbe? probe, Tensor x, StepPhase phase) => probe is null ? x : probe.Enter(x, phase);
}
