using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// Full activation recompute of one <see cref="TransformerBlock"/> (Megatron's --recompute-granularity full, a
/// reentrant checkpoint as torch.utils.checkpoint builds it): the forward runs the block without autograd in its own
/// dispose scope, so none of its activations outlive it, and keeps only the block's input; the backward runs the block
/// again with autograd on, from a detached copy of that input, and back-propagates the gradients of every
/// differentiable output of the block through it: the hidden states and, for an MoE block, its load-balancing and
/// z-losses (they enter the training loss). Parameter gradients accumulate into <c>.grad</c> as in a plain backward;
/// the input's gradient is returned to the outer graph. The routing (logits, probabilities, gates, ids) comes from the
/// first forward and carries no gradient: it is read only for logging and tracing.
/// The model has no dropout and no other random op, so the recomputed forward needs no saved RNG state; it equals the
/// first one wherever the kernels are deterministic (on the CPU always; on a GPU an op with nondeterministic
/// reductions could route a tie differently, as in Megatron). With expert parallelism the block's all-to-alls run
/// again inside the backward; every rank runs the blocks' backward in the same order, so the exchanges still pair up.
/// </summary>
sealed class BlockCheckpoint : autograd.MultiTensorFunction<BlockCheckpoint>
{
    public override string Name => nameof(BlockCheckpoint);

    /// <summary>Where the forward leaves the block's MoE output (routing and output without gradients).</summary>
    sealed class Side { public MoeOutput? Moe; }

    public static (Tensor Hidden, MoeOutput? Moe) Run(TransformerBlock block, Tensor x)
    {
        // The node is only recorded if an input requires grad; a block input that does not (a frozen embedding)
        // would otherwise silently drop the block's parameter gradients.
        if (!x.requires_grad) x = x.detach().requires_grad_(true);
        var side = new Side();
        var outputs = apply(x, block, side);
        var moe = side.Moe;
        if (moe is null) return (outputs[0], null);
        return (outputs[0], moe with { LoadBalancingLoss = outputs[1], ZLoss = outputs[2] });
    }

    public override List<Tensor> forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var block = (TransformerBlock)vars[1];
        var side = (Side)vars[2];
        ctx.save_for_backward([x]);
        ctx.save_data("block", block);
        using var scope = NewDisposeScope();
        // Autograd is off here (apply runs forward without it); the casts this forward makes are kept for the recompute.
        var casts = block.attention.Casts;
        bool castWithGrad = casts.CastWithGrad;
        casts.CastWithGrad = true;
        (Tensor Hidden, MoeOutput? Moe) result;
        try { result = block.Compute(x); }
        finally { casts.CastWithGrad = castWithGrad; }
        var (hidden, moe) = result;
        if (moe is null) return [hidden.MoveToOuterDisposeScope()];
        side.Moe = new MoeOutput(moe.Output.MoveToOuterDisposeScope(),
            new RouterOutput(moe.Routing.Logits.MoveToOuterDisposeScope(), moe.Routing.Probs.MoveToOuterDisposeScope(),
                moe.Routing.Gates.MoveToOuterDisposeScope(), moe.Routing.Indices.MoveToOuterDisposeScope()),
            moe.LoadBalancingLoss, moe.ZLoss);
        return [hidden.MoveToOuterDisposeScope(), moe.LoadBalancingLoss.MoveToOuterDisposeScope(), moe.ZLoss.MoveToOuterDisposeScope()];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, List<Tensor> grads)
    {
        var block = (TransformerBlock)ctx.get_data("block");
        Tensor inputGrad;
        using (var scope = NewDisposeScope())
        {
            var input = ctx.get_saved_variables()[0].detach().requires_grad_(true);
            using (enable_grad())
            {
                var (hidden, moe) = block.Compute(input);
                List<Tensor> outputs = moe is null ? [hidden] : [hidden, moe.LoadBalancingLoss, moe.ZLoss];
                autograd.backward(outputs, grads.Take(outputs.Count).ToList());
            }
            inputGrad = input.grad!.MoveToOuterDisposeScope();
        }
        // The incoming gradients are used up; drop their handles now rather than at the end of the step.
        foreach (var g in grads) g?.Dispose();
        return [inputGrad, null!, null!];
    }
}
