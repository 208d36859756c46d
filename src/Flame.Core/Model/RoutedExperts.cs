using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Model;

/// <summary>How tokens reach their experts. Both give the same result; see <see cref="RoutedExperts"/>.</summary>
public enum DispatchMode
{
    /// <summary>Sorted by expert, one grouped GEMM per projection (torch._grouped_mm). The default.</summary>
    Grouped,
    /// <summary>A plain loop over experts, gathering each one's tokens. Kept for tests.</summary>
    Reference,
}

/// <summary>
/// The routed experts of one MoE layer, stored stacked: gate_up [E, h, 2F] and down [E, F, h], so that
/// one grouped GEMM serves all experts. Dropless: every routed (token, slot) pair is computed.
/// y_t = sum over the token's top-k slots s of gate_s * E_s(x_t), summed in fp32 (<see cref="RoutedCombine"/>).
/// </summary>
public sealed class RoutedExperts : nn.Module
{
    readonly int _experts;
    public readonly Parameter gate_up; // [E, h, 2F]: columns 0..F-1 gate, F..2F-1 up
    public readonly Parameter down;    // [E, F, h]
    /// <summary>Where the weights come from in the compute dtype (set by the model).</summary>
    public WeightCasts Casts { get; set; } = new();
    /// <summary>Phase marks for profiling (null: none).</summary>
    public IPhaseProbe? Probe { get; set; }
    /// <summary>Where routed rows are computed when not all experts live here (expert parallelism); null: here, grouped.</summary>
    public ITokenDispatcher? Dispatcher { get; set; }

    public RoutedExperts(int hidden, int experts, int ffn) : base(nameof(RoutedExperts))
    {
        _experts = experts;
        gate_up = new Parameter(empty(experts, hidden, 2 * ffn));
        down = new Parameter(empty(experts, ffn, hidden));
        RegisterComponents();
    }

    /// <param name="x">[tokens, h]</param>
    /// <param name="indices">[tokens, k] expert ids</param>
    /// <param name="gates">[tokens, k] gate weights (fp32; gradients flow to the router through them)</param>
    public Tensor Forward(Tensor x, Tensor indices, Tensor gates, DispatchMode mode) => mode switch
    {
        _ when Dispatcher is not null => Dispatched(x, indices, gates),
        DispatchMode.Reference => Reference(x, indices, gates),
        _ => Grouped(x, indices, gates),
    };

    Tensor Reference(Tensor x, Tensor indices, Tensor gates)
    {
        using var scope = NewDisposeScope();
        var output = zeros_like(x, dtype: ScalarType.Float32); // summed in fp32 as RoutedCombine (Megatron's unpermute)
        var gateUp = Casts.Of(gate_up, x.dtype);
        var downWeight = Casts.Of(down, x.dtype);
        for (int e = 0; e < _experts; e++)
        {
            var hits = (indices == e).nonzero(); // [n, 2]: (token, slot)
            if (hits.shape[0] == 0) continue;
            var token = hits[.., 0];
            var slot = hits[.., 1];
            var halves = x.index_select(0, token).mm(gateUp[e]).chunk(2, dim: -1);
            var y = (F.silu(halves[0]) * halves[1]).mm(downWeight[e]);
            var weight = gates[token, slot].unsqueeze(-1).to(ScalarType.Float32);
            output = output.index_add(0, token, y.to(ScalarType.Float32) * weight, 1);
        }
        return output.to(x.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sort the (token, slot) pairs by expert, run both projections as grouped GEMMs over the sorted rows,
    /// then put the rows back in (token, slot) order and sum each token's k rows weighted by its gates.
    /// Nothing is read back to the host, and the un-sort is a permutation, so the backward pass adds
    /// without colliding indices (deterministic on CUDA too).
    /// </summary>
    Tensor Grouped(Tensor x, Tensor indices, Tensor gates)
    {
        using var scope = NewDisposeScope();
        long tokens = x.shape[0], hidden = x.shape[1], k = indices.shape[1];
        long pairs = tokens * k;
        var flatExpert = indices.flatten();
        // Unique keys make the order unique whatever sort algorithm runs: by expert, then by (token, slot).
        var order = (flatExpert * pairs + arange(pairs, device: x.device)).argsort();
        var inverse = order.argsort();
        var offsets = RoutingLosses.ExpertCounts(indices, _experts).cumsum(0).to(ScalarType.Int32);

        var rows = Probe.Mark(x.unsqueeze(1).expand(tokens, k, hidden).reshape(pairs, hidden).index_select(0, order), StepPhase.ExpertGemm);
        var halves = GroupedGemm.Multiply(rows, Casts.Of(gate_up, x.dtype), offsets).chunk(2, dim: -1);
        var y = Probe.Mark(GroupedGemm.Multiply(F.silu(halves[0]) * halves[1], Casts.Of(down, x.dtype), offsets), StepPhase.Combine);
        var perSlot = y.index_select(0, inverse).view(tokens, k, hidden);
        return RoutedCombine.Sum(perSlot, gates).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The routed rows go through <see cref="Dispatcher"/>, which runs <see cref="ExpertRows"/> where the experts live;
    /// the rows come back in (token, slot) order and are combined here as in the grouped path (fp32, then cast), so
    /// expert parallelism rounds exactly as one process does (Megatron unpermutes after the all-to-all the same way).
    /// </summary>
    Tensor Dispatched(Tensor x, Tensor indices, Tensor gates)
    {
        using var scope = NewDisposeScope();
        var perSlot = Dispatcher!.Run(x, indices, ExpertRows).view(x.shape[0], indices.shape[1], x.shape[1]);
        return RoutedCombine.Sum(perSlot, gates).MoveToOuterDisposeScope();
    }

    /// <summary>This module's experts over rows sorted by expert; <paramref name="offsets"/> are the cumulative row ends (int32).</summary>
    public Tensor ExpertRows(Tensor rows, Tensor offsets)
    {
        var halves = GroupedGemm.Multiply(rows, Casts.Of(gate_up, rows.dtype), offsets).chunk(2, dim: -1);
        return GroupedGemm.Multiply(F.silu(halves[0]) * halves[1], Casts.Of(down, rows.dtype), offsets);
    }
}
