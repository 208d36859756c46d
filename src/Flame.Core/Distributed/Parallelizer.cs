using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// Applies a layout to a built model from outside (torchtitan's parallelize_*): with expert parallelism each MoE
/// layer keeps only its rank's slice of the stacked experts and gets the all-to-all dispatcher. The model class
/// itself has no parallel code; with one expert rank nothing changes.
/// </summary>
public static class Parallelizer
{
    public static void Apply(FlameModel model, ProcessGroups groups)
    {
        int ep = groups.Layout.Expert;
        if (ep == 1) return;
        int experts = model.Config.Experts, local = experts / ep, first = groups.Layout.ExpertRank(groups.World.Rank) * local;
        using var noGrad = no_grad();
        foreach (var layer in model.MoeLayers)
        {
            foreach (var weight in new[] { layer.experts.gate_up, layer.experts.down })
                weight.set_(weight.narrow(0, first, local).clone());
            layer.experts.Dispatcher = new AllToAllTokenDispatcher(groups.Expert, experts);
        }
    }

    /// <summary>The parameters each rank holds a different slice of (the routed experts), when experts are split.</summary>
    public static IReadOnlyList<Tensor> ShardedParameters(FlameModel model, ParallelLayout layout) =>
        layout.Expert == 1 ? [] : model.MoeLayers.SelectMany(m => new Tensor[] { m.experts.gate_up, m.experts.down }).ToList();

    /// <summary>The handles of <see cref="ShardedParameters"/>, to tell a tensor of the model's state apart.</summary>
    public static HashSet<nint> ShardedHandles(FlameModel model, ParallelLayout layout) =>
        ShardedParameters(model, layout).Select(p => p.Handle).ToHashSet();
}
