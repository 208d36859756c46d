using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Optimization;

/// <summary>
/// The AdamW update of an optimizer built by <see cref="OptimizerFactory"/>, done by libtorch's fused
/// multi-tensor kernel (torch._fused_adamw_, reached through TorchScript as Model/GroupedGemm.cs reaches
/// _grouped_mm) instead of TorchSharp's loop of ~8 ops per parameter. It updates TorchSharp's own state
/// (exp_avg, exp_avg_sq, step), so checkpoints and the plain step() stay interchangeable with it.
/// Same formula (spec §2: decoupled decay, bias-corrected moments), different rounding order: the two
/// agree to ~1e-7. The trainer's default (<see cref="OptimizerSettings.Fused"/>): on the CPU its optimizer phase takes
/// 8.6-9.9 ms against 13.0-15.9 ms for the loop at the demo shape (bench/RESULTS.md, "Fused AdamW").
/// </summary>
public static class FusedAdamW
{
    const string Source = """
        def fused_adamw(params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor], steps: List[Tensor], lr: float, beta1: float, beta2: float, weight_decay: float, eps: float) -> Tensor:
            torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)
            return steps[0]
        """;

    static readonly Lazy<jit.CompilationUnit> Unit = new(() => jit.compile(Source + "\n"));

    /// <summary>One optimizer step over every parameter that has a gradient, one kernel launch per group.</summary>
    public static void Step(TorchSharp.Modules.AdamW optimizer)
    {
        using var scope = NewDisposeScope();
        var states = optimizer.state_dict().State;
        int index = 0;
        foreach (var group in optimizer.ParamGroups.Cast<TorchSharp.Modules.AdamW.ParamGroup>())
        {
            var options = group.Options;
            if (options.amsgrad == true || options.maximize == true)
                throw new NotSupportedException("the fused AdamW step supports neither amsgrad nor maximize");
            var members = new List<(Tensor Param, TorchSharp.Modules.AdamW.State State)>();
            foreach (var p in group.Parameters)
            {
                var state = (TorchSharp.Modules.AdamW.State)states[index++];
                if (p.grad is null) continue;
                state.step += 1;
                members.Add(((Tensor)p, state));
            }
            // The kernel reads each parameter's step count from a device tensor: one fill per distinct count
            // (normally one per group), never a host-to-device copy.
            foreach (var sameStep in members.GroupBy(m => m.State.step))
            {
                var list = sameStep.ToList();
                var step = full(Array.Empty<long>(), (float)sameStep.Key, ScalarType.Float32, list[0].Param.device);
                Unit.Value.invoke("fused_adamw",
                    list.Select(m => m.Param).ToArray(), list.Select(m => m.Param.grad!).ToArray(),
                    list.Select(m => m.State.exp_avg).ToArray(), list.Select(m => m.State.exp_avg_sq).ToArray(),
                    Enumerable.Repeat(step, list.Count).ToArray(),
                    options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.weight_decay!.Value, options.eps!.Value);
            }
        }
    }
}
