using Flame.Optimization;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Optimization;

/// <summary>
/// Clipping from the distributed optimizer's shards (GradientClipping.ClipShards): two ranks' blocks of one
/// zero-padded flat gradient, here on one process with the other rank's squares added by hand.
/// </summary>
public class ShardClippingTests
{
    // Gradients [3, 0] and [4]: norm 5. Laid end to end and padded to 4 for 2 ranks: rank 0 holds [3, 0], rank 1 [4, 0].
    static readonly float[] Rank0 = [3, 0], Rank1 = [4, 0];

    static (float[] Block, float Norm) Clip(float[] mine, float[] other, double maxNorm)
    {
        using var block = tensor(mine);
        double otherSquares = other.Sum(v => (double)v * v);
        using var norm = GradientClipping.ClipShards([block], maxNorm, squares => squares.add_(otherSquares));
        return (block.data<float>().ToArray(), norm.item<float>());
    }

    [Fact]
    public void EachRankScalesItsBlockByTheNormOverAllBlocks()
    {
        var (zero, norm0) = Clip(Rank0, Rank1, 1.0);
        var (one, norm1) = Clip(Rank1, Rank0, 1.0);
        Assert.Equal(5f, norm0);
        Assert.Equal(5f, norm1);
        // scale = 1 / (5 + 1e-6), spec §2's clip to norm 1
        Assert.Equal(3 / (5 + 1e-6), zero[0], 1e-6);
        Assert.Equal(4 / (5 + 1e-6), one[0], 1e-6);
        Assert.Equal(0f, zero[1]);
        Assert.Equal(0f, one[1]);
    }

    [Fact]
    public void BelowTheMaximumTheBlocksStayExactlyAsTheyWere()
    {
        var (zero, norm) = Clip(Rank0, Rank1, 10.0);
        Assert.Equal(5f, norm);
        Assert.Equal(Rank0, zero);
    }

    [Fact]
    public void ItClipsAsTheWholeGradientsClipTogether()
    {
        using var a = zeros(2, requires_grad: true);
        using var b = zeros(1, requires_grad: true);
        a.grad = tensor(new float[] { 3, 0 });
        b.grad = tensor(new float[] { 4 });
        using var norm = GradientClipping.ClipGlobalNorm([a, b], 1.0);
        var (zero, shardNorm) = Clip(Rank0, Rank1, 1.0);
        var (one, _) = Clip(Rank1, Rank0, 1.0);
        // Two implementations (one norm over whole tensors, one from blocks' squares summed across ranks): equal in value, to
        // fp32 rounding (1e-6 relative, ~10 ulps); these integer inputs happen to make them exact, which a test need not rely on.
        Assert.Equal(norm.item<float>(), shardNorm, 1e-6 * 5);
        var whole = a.grad!.data<float>().ToArray();
        for (int i = 0; i < whole.Length; i++) Assert.Equal(whole[i], zero[i], 1e-6);
        Assert.Equal(b.grad!.data<float>()[0], one[0], 1e-6);
        Assert.True(one[0] < 0.81f, $"{one[0]}");   // it did clip: 4 became 0.8
    }
}
