using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// Selective activation recompute of one small local op (Megatron's --recompute-granularity selective): the forward
/// runs <c>op</c> without autograd in its own dispose scope and keeps only the op's inputs; the backward runs it again
/// with autograd on, from detached copies of those inputs, and returns the gradient of each input that requires one
/// (through <c>autograd.grad</c>, so nothing accumulates into a parameter's <c>.grad</c> here: weights are inputs,
/// passed in the compute dtype as <see cref="WeightCasts"/> hands them out, and their gradients flow back through
/// the cast to the fp32 master as without recompute).
/// The op must be a pure function of its tensor inputs: no collectives (the expert-parallel all-to-alls stay outside),
/// no phase marks, no random op (the model has no dropout, so no RNG state is saved). On the CPU the recompute runs the
/// same kernels on the same inputs and equals the first forward bit for bit; the gradients equal the plain backward's up
/// to the order of a few fp32 sums (an input used twice inside the op, as the norm's fp32 input is, gets its two
/// gradients added here, before the engine adds those of its other readers).
/// Outside autograd (evaluation, generation) or when no input requires a gradient the op simply runs.
/// </summary>
sealed class CheckpointedOp : autograd.MultiTensorFunction<CheckpointedOp>
{
    public override string Name => nameof(CheckpointedOp);

    /// <summary>
    /// The gradients the last backward on this thread returned. The engine takes its own reference to each as the
    /// backward returns, but the managed handle would keep the tensor alive until some dispose scope ends (the step's):
    /// that is every recomputed op's input and weight gradients of the whole backward, held at once. They are dropped at
    /// the start of the next backward on the same thread (the autograd engine runs a device's nodes on one thread, so by
    /// then the engine has long taken them), which leaves at most one op's gradients outstanding.
    /// </summary>
    [ThreadStatic] static List<Tensor>? _returned;

    static void DropReturned()
    {
        if (_returned is null) return;
        foreach (var t in _returned) t.Dispose();
        _returned = null;
    }

    public static Tensor Run(Func<Tensor[], Tensor> op, params Tensor[] inputs)
    {
        if (!is_grad_enabled() || !inputs.Any(t => t.requires_grad)) return op(inputs);
        var vars = new object[inputs.Length + 1];
        vars[0] = op;
        for (int i = 0; i < inputs.Length; i++) vars[i + 1] = inputs[i];
        // TorchSharp's node keeps an uninitialised empty_like of each output (to materialise a missing output gradient
        // as zeros), made in the current dispose scope: this scope frees it at once instead of at the caller's scope's
        // end. Gradients are not materialised (the forward says so), so the node never reads it.
        using var scope = NewDisposeScope();
        return apply(vars)[0].MoveToOuterDisposeScope();
    }

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var op = (Func<Tensor[], Tensor>)vars[0];
        var inputs = vars.Skip(1).Cast<Tensor>().ToArray();
        ctx.save_for_backward(inputs.ToList());
        ctx.save_data("op", op);
        ctx.save_data("needs", inputs.Select(t => t.requires_grad).ToArray());
        ctx.set_materialize_grads(false);
        using var scope = NewDisposeScope();
        return [op(inputs).MoveToOuterDisposeScope()];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grads)
    {
        DropReturned();
        var op = (Func<Tensor[], Tensor>)ctx.get_data("op");
        var needs = (bool[])ctx.get_data("needs");
        var result = new List<Tensor> { null! };
        if (grads[0] is null || grads[0].IsInvalid) // the output fed nothing that needs a gradient
        {
            foreach (var _ in needs) result.Add(null!);
            return result;
        }
        using (var scope = NewDisposeScope())
        {
            var saved = ctx.get_saved_variables();
            var inputs = saved.Select((t, i) => needs[i] ? t.detach().requires_grad_(true) : t.detach()).ToArray();
            var wanted = inputs.Where((_, i) => needs[i]).ToList();
            IList<Tensor> inputGrads;
            using (enable_grad())
            {
                var output = op(inputs);
                inputGrads = autograd.grad([output], wanted, [grads[0]], allow_unused: true);
            }
            int next = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!needs[i]) { result.Add(null!); continue; }
                var g = inputGrads[next++];
                result.Add(g is null || g.IsInvalid ? null! : g.DetachFromDisposeScope());
            }
        }
        foreach (var g in grads) g?.Dispose();
        _returned = result.Where(t => t is not null).ToList();
        return result;
    }
}
