using Flame.Distributed;
using Flame.Model;

namespace Flame.Memory;

/// <summary>
/// One rank's training step as the planner sees it: the model, the micro-batch [MicroBatch, Sequence], the compute
/// dtype (bf16: fp32 masters with bf16 copies and activations; fp32: no copies), the data x expert layout, and the
/// memory options of <c>training.recompute</c>, <c>training.loss_chunk</c> and <c>parallel.distributed_optimizer</c>;
/// <paramref name="Cpu"/>: the step runs on the host (libtorch's CPU allocator, measured as the process's resident memory).
/// </summary>
public sealed record MemoryRequest(
    ModelConfig Model, int MicroBatch, int Sequence, bool Bf16, ParallelLayout Layout,
    bool DistributedOptimizer = false, RecomputeMode Recompute = RecomputeMode.None, int LossChunk = 0, bool Cpu = false)
{
    /// <summary>Tokens of one micro-batch: B x S.</summary>
    public long Tokens => (long)MicroBatch * Sequence;

    /// <summary>Bytes of one activation element in the compute dtype.</summary>
    public int ComputeBytes => Bf16 ? 2 : 4;

    /// <summary>Rows of the logits alive at once: the whole micro-batch, or one loss chunk.</summary>
    public long LogitRows => LossChunk > 0 ? Math.Min(LossChunk, Tokens) : Tokens;

    public string Describe() =>
        $"micro-batch {MicroBatch} x seq {Sequence}, {(Bf16 ? "bf16" : "fp32")}, data {Layout.Data} x expert {Layout.Expert}" +
        (DistributedOptimizer ? ", distributed optimizer" : "") + $", recompute {RecomputeModes.Name(Recompute)}" +
        (LossChunk > 0 ? $", loss chunk {LossChunk}" : "");
}
