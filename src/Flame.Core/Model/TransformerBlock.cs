using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// A pre-norm decoder block (spec §1): x += Attn(RMSNorm(x)); x += FFN(RMSNorm(x)), where the FFN is
/// a dense SwiGLU or an MoE layer. Returns the MoE layer's output too, or null for a dense block.
/// </summary>
public sealed class TransformerBlock : nn.Module<Tensor, (Tensor Hidden, MoeOutput? Moe)>
{
    public readonly RmsNorm attention_norm;
    public readonly CausalSelfAttention attention;
    public readonly RmsNorm ffn_norm;
    public readonly SwiGluFfn? ffn;
    public readonly MoeLayer? moe;

    /// <summary>Phase marks for profiling (null: none); handed on to the MoE layer.</summary>
    public IPhaseProbe? Probe
    {
        get => _probe;
        set { _probe = value; if (moe is not null) moe.Probe = value; }
    }
    IPhaseProbe? _probe;

    /// <summary>
    /// Activation recompute while autograd is on (training): <see cref="RecomputeMode.Full"/> keeps only this block's
    /// input and runs the block again in the backward (<see cref="BlockCheckpoint"/>); <see cref="RecomputeMode.Selective"/>
    /// recomputes the cheap, memory-heavy ops from their inputs (<see cref="CheckpointedOp"/>): both RMSNorms, the
    /// attention core and the SwiGLUs (dense FFN, shared expert, routed experts). The math is the same either way.
    /// </summary>
    public RecomputeMode Recompute
    {
        get => _recompute;
        set
        {
            _recompute = value;
            bool selective = value == RecomputeMode.Selective;
            attention_norm.Recompute = selective;
            attention.RecomputeCore = selective;
            ffn_norm.Recompute = selective;
            if (ffn is not null) ffn.Recompute = selective;
            if (moe is not null)
            {
                moe.experts.Recompute = selective;
                if (moe.shared_expert is not null) moe.shared_expert.Recompute = selective;
            }
        }
    }
    RecomputeMode _recompute = RecomputeMode.None;

    public TransformerBlock(ModelConfig config, int layer, RotaryEmbedding rope) : base(nameof(TransformerBlock))
    {
        attention_norm = new RmsNorm(config.Hidden, config.NormEps);
        attention = new CausalSelfAttention(config.Hidden, config.Heads, rope);
        ffn_norm = new RmsNorm(config.Hidden, config.NormEps);
        if (config.IsMoeLayer(layer)) moe = new MoeLayer(config);
        else ffn = new SwiGluFfn(config.Hidden, config.DenseFfn);
        RegisterComponents();
    }

    public override (Tensor Hidden, MoeOutput? Moe) forward(Tensor x) =>
        _recompute == RecomputeMode.Full && is_grad_enabled() ? BlockCheckpoint.Run(this, x) : Compute(x);

    /// <summary>The block's math, whatever is kept for the backward.</summary>
    internal (Tensor Hidden, MoeOutput? Moe) Compute(Tensor x)
    {
        x = x + _probe.Mark(attention.forward(_probe.Mark(attention_norm.forward(x), StepPhase.Attention)), StepPhase.Other);
        var normed = ffn_norm.forward(x);
        if (moe is null) return (x + _probe.Mark(ffn!.forward(_probe.Mark(normed, StepPhase.SharedFfn)), StepPhase.Other), null);
        var routed = moe.forward(normed);
        return (x + routed.Output, routed);
    }

    /// <summary>The same block for generation: attention through a KV cache, routing decisions dropped.</summary>
    public Tensor forward(Tensor x, LayerKvCache cache)
    {
        x = x + attention.forward(attention_norm.forward(x), cache);
        var normed = ffn_norm.forward(x);
        return x + (moe is null ? ffn!.forward(normed) : moe.forward(normed).Output);
    }
}
