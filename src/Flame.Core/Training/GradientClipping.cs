using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// Global gradient-norm clipping (spec §2: max norm 1.0), kept on the device: the scale
/// min(1, max/(norm+1e-6)) is a tensor, so no value is read back to the host inside the step
/// (TorchSharp's clip_grad_norm_ returns a double, which would synchronise every step on CUDA).
/// </summary>
public static class GradientClipping
{
    /// <summary>Scales the gradients in place and returns the global L2 norm before clipping (a 0-d tensor).</summary>
    public static Tensor ClipGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Cast<Tensor>().ToList();
        if (grads.Count == 0) return zeros(1).squeeze();
        using var scope = NewDisposeScope();
        var norm = stack(grads.Select(g => g.to(ScalarType.Float32).square().sum())).sum().sqrt();
        var scale = (maxNorm / (norm + 1e-6)).clamp_max(1.0);
        using (no_grad())
            foreach (var g in grads) g.mul_(scale.to(g.dtype));
        return norm.MoveToOuterDisposeScope();
    }
}
