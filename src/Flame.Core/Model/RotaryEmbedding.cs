using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// RoPE on the full head dim, rotate-half (non-interleaved) convention, base 10000 (spec §1):
/// out = x * cos + rotate_half(x) * sin, with rotate_half([a, b]) = [-b, a] and frequency
/// theta_i = base^(-2i/d) shared by dims i and i + d/2.
/// </summary>
public sealed class RotaryEmbedding : nn.Module
{
    readonly Tensor _cos, _sin; // [maxPositions, headDim], fp32

    public RotaryEmbedding(int headDim, int maxPositions, double ropeBase) : base(nameof(RotaryEmbedding))
    {
        var inverseFrequency = pow(ropeBase, -arange(0, headDim, 2, dtype: ScalarType.Float64) / headDim);
        var angles = outer(arange(maxPositions, dtype: ScalarType.Float64), inverseFrequency);
        var full = cat([angles, angles], dim: -1);
        _cos = full.cos().to(ScalarType.Float32);
        _sin = full.sin().to(ScalarType.Float32);
        register_buffer("cos", _cos, persistent: false);
        register_buffer("sin", _sin, persistent: false);
    }

    /// <summary>Rotates x of shape [batch, heads, seq, headDim] by positions 0..seq-1.</summary>
    public Tensor Apply(Tensor x)
    {
        using var scope = NewDisposeScope();
        long seq = x.shape[2];
        var cosT = _cos.narrow(0, 0, seq).to(x.dtype);
        var sinT = _sin.narrow(0, 0, seq).to(x.dtype);
        var halves = x.chunk(2, dim: -1);
        var rotated = cat([-halves[1], halves[0]], dim: -1);
        return (x * cosT + rotated * sinT).MoveToOuterDisposeScope();
    }

    /// <summary>Rotates x [batch, heads, seq, headDim] by positions offset..offset+seq-1 (generation with a KV cache).</summary>
    public Tensor Apply(Tensor x, long offset)
    {
        using var scope = NewDisposeScope();
        long seq = x.shape[2];
        var cosT = _cos.narrow(0, offset, seq).to(x.dtype);
        var sinT = _sin.narrow(0, offset, seq).to(x.dtype);
        var halves = x.chunk(2, dim: -1);
        var rotated = cat([-halves[1], halves[0]], dim: -1);
        return (x * cosT + rotated * sinT).MoveToOuterDisposeScope();
    }
}
