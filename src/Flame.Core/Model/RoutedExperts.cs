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
    /// <summary>Where routed rows are computed: here (<see cref="LocalTokenDispatcher"/>), or on the ranks holding their experts under expert parallelism.</summary>
    public ITokenDispatcher Dispatcher { get; set; }

    public RoutedExperts(int hidden, int experts, int ffn) : base(nameof(RoutedExperts))
    {
        _experts = experts;
        gate_up = new Parameter(empty(experts, hidden, 2 * ffn));
        down = new Parameter(empty(experts, ffn, hidden));
        Dispatcher = new LocalTokenDispatcher(experts);
        RegisterComponents();
    }

    /// <param name="x">[tokens, h]</param>
    /// <param name="indices">[tokens, k] expert ids</param>
    /// <param name="gates">[tokens, k] gate weights (fp32; gradients flow to the router through them)</param>
    public Tensor Forward(Tensor x, Tensor indices, Tensor gates, DispatchMode mode) =>
        mode == DispatchMode.Reference ? Reference(x, indices, gates) : Dispatched(x, indices, gates);

    Tensor Reference(Tensor x, Tensor indices, Tensor gates)
    {
        if (Dispatcher is not LocalTokenDispatcher)
            throw new UserError("the reference dispatch computes every expert on one process; it cannot run with expert parallelism (parallel.expert > 1)");
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
    /// The routed rows go through <see cref="Dispatcher"/>, which sorts them by expert and runs <see cref="ExpertRows"/>
    /// where the experts live; the rows come back in (token, slot) order and each token's k rows are summed weighted
    /// by its gates in fp32, then cast (<see cref="RoutedCombine"/>, Megatron's unpermute), the same on one process as under
    /// expert parallelism.
    /// </summary>
    Tensor Dispatched(Tensor x, Tensor indices, Tensor gates)
    {
        using var scope = NewDisposeScope();
        var perSlot = Dispatcher.Run(x, indices, ExpertRows).view(x.shape[0], indices.shape[1], x.shape[1]);
        return RoutedCombine.Sum(perSlot, gates).MoveToOuterDisposeScope();
    }

    /// <summary>This module's experts over rows sorted by expert; <paramref name="offsets"/> are the cumulative row ends (int32).</summary>
    public Tensor ExpertRows(Tensor rows, Tensor offsets)
    {
        rows = Probe.Mark(rows, StepPhase.ExpertGemm);
        var gateUp = Casts.Of(gate_up, rows.dtype);
        var downWeight = Casts.Of(down, rows.dtype);
        var output = Recompute ? CheckpointedOp.Run(SwiGluRows, rows, gateUp, downWeight, offsets) : SwiGluRows([rows, gateUp, downWeight, offsets]);
        return Probe.Mark(output, StepPhase.Combine);
    }

    /// <summary>
    /// Selective recompute while autograd is on: the two grouped GEMMs and the SwiGLU between them keep only their
    /// input rows, the (cast) weights and the offsets; the gate_up output, silu(gate) and the product are rebuilt in
    /// the backward (<see cref="CheckpointedOp"/>). Local to this rank: under expert parallelism the all-to-alls
    /// stay outside. The reference dispatch keeps everything.
    /// </summary>
    public bool Recompute { get; set; }

    /// <summary>rows, gate_up and down in the compute dtype, offsets.</summary>
    static Tensor SwiGluRows(Tensor[] a)
    {
        using var scope = NewDisposeScope();
        var halves = GroupedGemm.Multiply(a[0], a[1], a[3]).chunk(2, dim: -1);
        return GroupedGemm.Multiply(F.silu(halves[0]) * halves[1], a[2], a[3]).MoveToOuterDisposeScope();
    }
}
