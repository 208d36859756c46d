using Flame.Checkpointing;
using Flame.Distributed;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// Never save a broken model: before a checkpoint is written, the losses accumulated since the last log,
/// the step's gradient norm and every weight must be finite. The three answers are computed on the device and read
/// to the host in one transfer, only on checkpoint steps (no extra synchronisation on other steps); under a launcher
/// the ranks' answers are summed so every rank stops together, whichever rank saw the non-finite value.
/// </summary>
public static class FiniteCheck
{
    static readonly string[] What = ["loss", "gradient norm", "weights"];

    /// <summary>Throws <see cref="Stop"/> naming what is not finite; returns when everything is.</summary>
    public static void Require(IReadOnlyList<Tensor> losses, Tensor gradNorm, IEnumerable<Tensor> weights,
        ProcessGroups groups, long step, CheckpointStore store)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var bad = stack([NotAllFinite(losses), NotAllFinite([gradNorm]), NotAllFinite(weights.ToList())]);
        if (groups.World.Size > 1) groups.World.AllReduceSum(bad);
        var counts = bad.cpu().data<float>().ToArray();
        var broken = What.Where((_, i) => counts[i] > 0).ToList();
        if (broken.Count > 0) throw Stop(string.Join(" and ", broken), step, store);
    }

    /// <summary>1 when any value of the tensors is NaN or infinite, else 0 (0-d float on their device).</summary>
    static Tensor NotAllFinite(IReadOnlyList<Tensor> tensors) =>
        stack(tensors.Select(AllFinite).ToArray()).all().logical_not().to(ScalarType.Float32);

    /// <summary>A 0-d bool; the tensor-sized mask is freed at once, so the check never holds a second copy of the weights.</summary>
    static Tensor AllFinite(Tensor tensor)
    {
        using var scope = NewDisposeScope();
        return isfinite(tensor.detach()).all().MoveToOuterDisposeScope();
    }

    /// <summary>The one line a non-finite run stops with: the step, and the last checkpoint (finite, since each was checked).</summary>
    public static UserError Stop(string what, long step, CheckpointStore store) =>
        new($"non-finite {what} at step {step}; stopped without writing a checkpoint; the last good checkpoint is " +
            (store.Latest() is { } latest ? latest.Folder : "none (none was written yet)") +
            " (a lower schedule.max_lr or optimizer.clip_grad usually helps)");
}
