using Flame.Model;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Evaluation;

/// <summary>
/// Logits at chosen positions only. Scoring needs the output layer at the continuation's few positions, but
/// <see cref="FlameModel.forward"/> computes it at every position: on the demo model the output layer is about
/// half the forward's FLOPs, and on a GPU [batch, 2048, 50304] logits dominate memory. This runs the same
/// steps as FlameModel.forward (embedding, blocks, final norm, output layer, in the model's compute dtype) and
/// applies the last two to the selected hidden states only (both act on each position alone).
/// ScoringTests checks it against FlameModel.forward, so a change to the model's forward shows up there.
/// </summary>
public static class PositionLogits
{
    /// <param name="tokens">[batch, seq] int64.</param>
    /// <param name="rows">batch index of each wanted position.</param>
    /// <param name="columns">sequence index of each wanted position.</param>
    /// <returns>[positions, paddedVocab] in the compute dtype.</returns>
    public static Tensor Compute(FlameModel model, Tensor tokens, Tensor rows, Tensor columns)
    {
        if (tokens.shape[1] > model.Config.MaxPositions)
            throw new UserError($"sequence length {tokens.shape[1]} exceeds the model's max positions {model.Config.MaxPositions}");
        var x = model.embedding.index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1).to(model.ComputeType);
        foreach (var block in model.blocks) x = block.forward(x).Hidden;
        var picked = x.index(rows, columns);
        return F.linear(model.final_norm.forward(picked), model.output.to(model.ComputeType));
    }
}
