using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Model;

/// <summary>
/// The output layer and the mean fp32 cross-entropy computed a chunk of tokens at a time, forward and backward, so the
/// [tokens, vocab] logits and their gradient never exist whole (Liger's fused linear cross-entropy). The result is
/// <see cref="FlameModel.LanguageModelLoss"/> of F.linear(hidden, weight): each chunk's logits are computed in the
/// weight's dtype and cast to fp32, every column takes part (the padded vocabulary too, as there), and the mean is over
/// every token. The forward keeps one logsumexp per token; the backward recomputes each chunk's logits, turns them into
/// (softmax - one-hot) x grad / tokens in fp32, casts that to the compute dtype (as the cast's backward does in the
/// unchunked path) and accumulates the hidden states' and the weight's gradients (the weight's in fp32). The weight
/// may be a <see cref="WeightCasts"/> cast: its gradient flows on into the fp32 master.
/// </summary>
public sealed class ChunkedLinearCrossEntropy : autograd.SingleTensorFunction<ChunkedLinearCrossEntropy>
{
    public override string Name => nameof(ChunkedLinearCrossEntropy);

    /// <summary>
    /// Mean cross-entropy (0-d, fp32) of hidden [tokens, h] times weight [vocab, h] transposed against targets [tokens]
    /// (int64), <paramref name="chunk"/> tokens at a time (the last chunk may be shorter).
    /// </summary>
    public static Tensor Loss(Tensor hidden, Tensor weight, Tensor targets, int chunk)
    {
        if (chunk < 1) throw new ArgumentOutOfRangeException(nameof(chunk), chunk, "a chunk holds at least one token");
        if (hidden.dim() != 2 || weight.dim() != 2 || targets.dim() != 1 || hidden.shape[0] != targets.shape[0] || hidden.shape[1] != weight.shape[1])
            throw new ArgumentException($"hidden [tokens, h], weight [vocab, h], targets [tokens] expected; got [{string.Join(", ", hidden.shape)}], [{string.Join(", ", weight.shape)}], [{string.Join(", ", targets.shape)}]");
        return apply(hidden, weight, targets, chunk);
    }

    /// <summary>Each chunk's [start, length).</summary>
    static IEnumerable<(long Start, long Length)> Chunks(long tokens, long chunk)
    {
        for (long start = 0; start < tokens; start += chunk) yield return (start, Math.Min(chunk, tokens - start));
    }

    static Tensor Logits(Tensor hidden, Tensor weight, long start, long length) =>
        F.linear(hidden.narrow(0, start, length), weight).to(ScalarType.Float32);

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var hidden = (Tensor)vars[0];
        var weight = (Tensor)vars[1];
        var targets = (Tensor)vars[2];
        int chunk = (int)vars[3];
        long tokens = hidden.shape[0];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logSumExp = empty(tokens, dtype: ScalarType.Float32, device: hidden.device);
        var total = zeros(1, dtype: ScalarType.Float32, device: hidden.device).squeeze();
        foreach (var (start, length) in Chunks(tokens, chunk))
        {
            using var chunkScope = NewDisposeScope();
            var logits = Logits(hidden, weight, start, length);
            var lse = logits.logsumexp(1);
            var target = logits.gather(1, targets.narrow(0, start, length).unsqueeze(1)).squeeze(1);
            logSumExp.narrow(0, start, length).copy_(lse);
            total.add_((lse - target).sum());
        }
        // Saved after this method returns, so the saved tensors must outlive its dispose scope.
        ctx.save_for_backward([hidden, weight, targets, logSumExp.MoveToOuterDisposeScope()]);
        ctx.save_data("chunk", chunk);
        return total.div_(tokens).MoveToOuterDisposeScope();
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var (hidden, weight, targets, logSumExp) = (saved[0], saved[1], saved[2], saved[3]);
        int chunk = (int)ctx.get_data("chunk");
        long tokens = hidden.shape[0];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var scale = gradOutput.to(ScalarType.Float32) / tokens;
        var gradHidden = empty_like(hidden);
        var gradWeight = zeros(weight.shape, dtype: ScalarType.Float32, device: weight.device);
        bool fp32 = weight.dtype == ScalarType.Float32;
        foreach (var (start, length) in Chunks(tokens, chunk))
        {
            using var chunkScope = NewDisposeScope();
            var logits = Logits(hidden, weight, start, length);
            var index = targets.narrow(0, start, length).unsqueeze(1);
            // softmax - one-hot, in place on the logits
            var gradLogits = logits.sub_(logSumExp.narrow(0, start, length).unsqueeze(1)).exp_();
            gradLogits.scatter_add_(1, index, full(index.shape, -1f, dtype: ScalarType.Float32, device: index.device));
            gradLogits = gradLogits.mul_(scale).to(weight.dtype);
            var rows = hidden.narrow(0, start, length);
            gradHidden.narrow(0, start, length).copy_(gradLogits.mm(weight));
            if (fp32) gradWeight.addmm_(gradLogits.t(), rows);
            else gradWeight.add_(gradLogits.t().mm(rows));
        }
        var weightGrad = fp32 ? gradWeight : gradWeight.to(weight.dtype);
        return [gradHidden.MoveToOuterDisposeScope(), weightGrad.MoveToOuterDisposeScope(), null!, null!];
    }
}
