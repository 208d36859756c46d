using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// A MoE layer's (token, slot) rows sorted by expert, the set-up every token dispatcher starts from: row p of
/// <see cref="Rows"/> is token Order[p] / k's hidden state, and <see cref="Inverse"/> puts rows computed in that order
/// back into (token, slot) order. The keys are unique (expert, then token and slot), so the order is the same
/// whatever sort algorithm runs, and the un-sort is a permutation: the backward pass adds without colliding indices.
/// </summary>
public sealed record ExpertSort(Tensor Order, Tensor Inverse, Tensor Rows)
{
    /// <param name="x">[tokens, h]</param>
    /// <param name="indices">[tokens, k] expert ids</param>
    public static ExpertSort Of(Tensor x, Tensor indices)
    {
        long tokens = x.shape[0], hidden = x.shape[1], k = indices.shape[1], pairs = tokens * k;
        var order = (indices.flatten() * pairs + arange(pairs, device: x.device)).argsort();
        var inverse = order.argsort();
        var rows = x.unsqueeze(1).expand(tokens, k, hidden).reshape(pairs, hidden).index_select(0, order);
        return new ExpertSort(order, inverse, rows);
    }
}
