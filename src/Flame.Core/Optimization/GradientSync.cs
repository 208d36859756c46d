using Flame.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Optimization;

/// <summary>
/// Makes every rank's gradients those of the whole global batch (Megatron's DDP, spec §2's clipping): each rank's
/// loss is the mean over its own micro-batches, so the global gradient is the mean over ranks. Replicated
/// parameters (attention, dense layers, routers, norms; experts too when they are not split) are summed over
/// the world; an expert slice's gradient already holds its expert group's tokens (the all-to-all's backward
/// brings them), so it is summed over the ranks holding the same slice. Both are then divided by the world size.
/// Gradients travel as one flat buffer per group (one collective each). With the distributed optimizer,
/// <see cref="DistributedOptimizer.AverageAndClip"/> does this instead, into its shards only.
/// </summary>
public sealed class GradientSync(ProcessGroups groups, IReadOnlyList<Tensor> replicated, IReadOnlyList<Tensor> sharded)
{
    public IReadOnlyList<Tensor> Replicated => replicated;
    public IReadOnlyList<Tensor> Sharded => sharded;

    /// <summary>Averages the gradients over the ranks, then clips them to the global norm, which it returns (0-d, on the device).</summary>
    public Tensor AverageAndClip(double maxNorm)
    {
        int world = groups.World.Size;
        if (world > 1)
        {
            Average(replicated, groups.World, world);
            Average(sharded, groups.Data, world);
        }
        return GradientClipping.ClipGlobalNorm(replicated, sharded, maxNorm,
            sharded.Count == 0 ? null : squares => groups.Expert.AllReduceSum(squares));
    }

    static void Average(IReadOnlyList<Tensor> parameters, ICommunicator group, int world)
    {
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Cast<Tensor>().ToList();
        if (grads.Count == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = cat(grads.Select(g => g.flatten()).ToList());
        if (group.Size > 1) group.AllReduceSum(flat);
        flat.div_(world);
        long offset = 0;
        foreach (var g in grads)
        {
            g.copy_(flat.narrow(0, offset, g.numel()).view(g.shape));
            offset += g.numel();
        }
    }
}
