using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Optimization;

/// <summary>Adam with decoupled weight decay (spec §2): betas 0.9/0.999, eps 1e-8, weight decay 0.01.</summary>
/// <param name="Fused">the update as libtorch's fused multi-tensor kernel (<see cref="FusedAdamW"/>): the same formula in
/// another fp32 order, and the faster one (bench/RESULTS.md, "Fused AdamW"); false: TorchSharp's loop of ops per parameter.</param>
public sealed record OptimizerSettings(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0.01,
    double ClipNorm = 1.0, bool Fused = true);

public static class OptimizerFactory
{
    /// <summary>
    /// AdamW over two groups: weight matrices decay, 1-D parameters (RMSNorm weights) do not, as Megatron-LM's
    /// default no-weight-decay rule has it. The learning rate is set every step from the schedule.
    /// </summary>
    public static TorchSharp.Modules.AdamW Create(IEnumerable<(string Name, Tensor Param)> parameters, OptimizerSettings s, double initialLr)
    {
        var all = parameters.ToList();
        return Create(all.Where(p => p.Param.dim() > 1).Select(p => (Parameter)p.Param).ToList(),
            all.Where(p => p.Param.dim() <= 1).Select(p => (Parameter)p.Param).ToList(), s, initialLr);
    }

    /// <summary>AdamW over given decaying and non-decaying parameters (a sharded optimizer's flat shards have no shape to tell).</summary>
    public static TorchSharp.Modules.AdamW Create(IReadOnlyList<Parameter> decay, IReadOnlyList<Parameter> noDecay, OptimizerSettings s, double initialLr)
    {
        var groups = new List<TorchSharp.Modules.AdamW.ParamGroup>
        {
            new(decay, lr: initialLr, beta1: s.Beta1, beta2: s.Beta2, eps: s.Eps, weight_decay: s.WeightDecay),
        };
        if (noDecay.Count > 0)
            groups.Add(new(noDecay, lr: initialLr, beta1: s.Beta1, beta2: s.Beta2, eps: s.Eps, weight_decay: 0));
        return optim.AdamW(groups, lr: initialLr, beta1: s.Beta1, beta2: s.Beta2, eps: s.Eps, weight_decay: s.WeightDecay);
    }

    public static void SetLearningRate(optim.Optimizer optimizer, double lr)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
    }
}
