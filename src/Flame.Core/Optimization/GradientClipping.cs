using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Optimization;

/// <summary>
/// Global gradient-norm clipping (spec §2: max norm 1.0), kept on the device: the scale
/// min(1, max/(norm+1e-6)) is a tensor, so no value is read back to the host inside the step
/// (TorchSharp's clip_grad_norm_ returns a double, which would synchronise every step on CUDA).
/// </summary>
public static class GradientClipping
{
    /// <summary>Scales the gradients in place and returns the global L2 norm before clipping (a 0-d tensor).</summary>
    public static Tensor ClipGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm) => ClipGlobalNorm(parameters, [], maxNorm, null);

    /// <summary>
    /// The same over parameters split between ranks (expert parallelism): <paramref name="replicated"/> hold the same
    /// gradient on every rank, each rank holds its own share of <paramref name="sharded"/>, whose squares
    /// <paramref name="sumOverShards"/> adds up over the ranks sharing them (torchtitan's _clip_grad_norm_with_ep).
    /// </summary>
    public static Tensor ClipGlobalNorm(IEnumerable<Tensor> replicated, IEnumerable<Tensor> sharded, double maxNorm, Action<Tensor>? sumOverShards)
    {
        static List<Tensor> Grads(IEnumerable<Tensor> ps) => ps.Select(p => p.grad).Where(g => g is not null).Cast<Tensor>().ToList();
        var grads = Grads(replicated);
        var shardGrads = Grads(sharded);
        if (grads.Count + shardGrads.Count == 0) return zeros(1).squeeze();
        using var scope = NewDisposeScope();
        var device = (grads.Count > 0 ? grads[0] : shardGrads[0]).device;
        var squares = grads.Count > 0 ? SumOfSquares(grads) : zeros(1, device: device).squeeze();
        if (shardGrads.Count > 0)
        {
            var shardSquares = SumOfSquares(shardGrads).unsqueeze(0);
            sumOverShards?.Invoke(shardSquares);
            squares = squares + shardSquares.squeeze();
        }
        return Clip(squares, grads.Concat(shardGrads), maxNorm).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same when each rank holds a disjoint block of every gradient (the distributed optimizer's reduce-scattered
    /// shards, zero where padded): each rank's sum of squares is added up over all ranks by <paramref name="sumOverRanks"/>
    /// (Megatron's clip_grad_norm_fp32 over the optimizer's shards), then every block is scaled alike.
    /// </summary>
    public static Tensor ClipShards(IReadOnlyList<Tensor> blocks, double maxNorm, Action<Tensor> sumOverRanks)
    {
        using var scope = NewDisposeScope();
        var squares = SumOfSquares(blocks).unsqueeze(0);
        sumOverRanks(squares);
        return Clip(squares.squeeze(), blocks, maxNorm).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The sum over <paramref name="grads"/> of each one's sum of squares (fp32), the same arithmetic as
    /// stack(g.square().sum()).sum(), but each square is freed as soon as it is summed: holding them all in the caller's
    /// dispose scope cost 4 bytes a parameter at the step's peak (bench/RESULTS.md, "Memory planner against measured
    /// peaks"); now the most alive at once is the largest gradient's square.
    /// </summary>
    static Tensor SumOfSquares(IReadOnlyList<Tensor> grads)
    {
        var sums = new Tensor[grads.Count];
        for (int i = 0; i < grads.Count; i++)
        {
            using var inner = NewDisposeScope();
            sums[i] = grads[i].to(ScalarType.Float32).square().sum().MoveToOuterDisposeScope();
        }
        return stack(sums).sum();
    }

    /// <summary>Scales <paramref name="grads"/> by min(1, max/(norm+1e-6)) for the norm sqrt(<paramref name="squares"/>), which it returns.</summary>
    static Tensor Clip(Tensor squares, IEnumerable<Tensor> grads, double maxNorm)
    {
        var norm = squares.sqrt();
        var scale = (maxNorm / (norm + 1e-6)).clamp_max(1.0);
        using (no_grad())
            foreach (var g in grads) g.mul_(scale.to(g.dtype));
        return norm;
    }
}
