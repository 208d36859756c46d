using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Model;

/// <summary>
/// SwiGLU FFN, fc2(silu(gate(x)) * up(x)) (spec §1), without biases. Used for dense layers and for
/// the shared expert. Gate and up share one fused weight.
/// </summary>
public sealed class SwiGluFfn : nn.Module<Tensor, Tensor>
{
    /// <summary>[2F, h]: rows 0..F-1 are the gate, F..2F-1 the up projection.</summary>
    public readonly Parameter gate_up;
    /// <summary>[h, F]: the down projection.</summary>
    public readonly Parameter down;
    /// <summary>Where the weights come from in the compute dtype (set by the model).</summary>
    public WeightCasts Casts { get; set; } = new();

    public SwiGluFfn(int hidden, int ffn) : base(nameof(SwiGluFfn))
    {
        gate_up = new Parameter(empty(2 * ffn, hidden));
        down = new Parameter(empty(hidden, ffn));
        RegisterComponents();
    }

    /// <summary>
    /// Selective recompute while autograd is on: keep only the input and the (cast) weights; the gate_up output,
    /// silu(gate) and the product are rebuilt in the backward with both projections (<see cref="CheckpointedOp"/>).
    /// </summary>
    public bool Recompute { get; set; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var gateUp = Casts.Of(gate_up, x.dtype);
        var downWeight = Casts.Of(down, x.dtype);
        var output = Recompute ? CheckpointedOp.Run(Compute, x, gateUp, downWeight) : Compute([x, gateUp, downWeight]);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>x, gate_up and down in the compute dtype.</summary>
    static Tensor Compute(Tensor[] a)
    {
        using var scope = NewDisposeScope();
        var halves = F.linear(a[0], a[1]).chunk(2, dim: -1);
        return F.linear(F.silu(halves[0]) * halves[1], a[2]).MoveToOuterDisposeScope();
    }
}
