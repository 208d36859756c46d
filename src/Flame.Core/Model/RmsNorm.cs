using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>RMSNorm (spec §1: eps 1e-6, weight only), computed in fp32 and returned in the input's dtype.</summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    readonly double _eps;
    public readonly Parameter weight;

    public RmsNorm(int hidden, double eps) : base(nameof(RmsNorm))
    {
        _eps = eps;
        weight = new Parameter(ones(hidden));
        RegisterComponents();
    }

    /// <summary>
    /// Selective recompute while autograd is on: keep only the input (and the weight) and recompute the fp32
    /// intermediates in the backward (<see cref="CheckpointedOp"/>). The output is still kept by the op that reads it.
    /// </summary>
    public bool Recompute { get; set; }

    public override Tensor forward(Tensor x) =>
        Recompute ? CheckpointedOp.Run(a => Normalize(a[0], a[1], _eps), x, weight) : Normalize(x, weight, _eps);

    static Tensor Normalize(Tensor x, Tensor weight, double eps)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.square().mean([-1], keepdim: true) + eps);
        return (normed * weight).to(x.dtype).MoveToOuterDisposeScope();
    }
}
