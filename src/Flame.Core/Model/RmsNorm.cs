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

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32);
        var normed = x32 * rsqrt(x32.square().mean([-1], keepdim: true) + _eps);
        return (normed * weight).to(x.dtype).MoveToOuterDisposeScope();
    }
}
