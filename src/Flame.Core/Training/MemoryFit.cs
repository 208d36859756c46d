using Flame.Memory;
using Flame.Model;
using Flame.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// A run whose training step cannot fit in the device's free memory is refused before anything is allocated
/// (experts=100000 would otherwise allocate until the machine runs out of memory). The figure is
/// <see cref="MemoryPlanner"/>'s predicted peak of one rank's step: weights, their bf16 copies, gradients, the
/// optimizer's state, the activations kept for the backward and the largest transient buffer. The refusal says by how
/// much it is over and the smallest change that fits (<see cref="MemoryAdvice"/>).
/// </summary>
public static class MemoryFit
{
    /// <summary>The planner's request for the step a training config runs on <paramref name="device"/>.</summary>
    public static MemoryRequest RequestFor(TrainingConfig config, ModelConfig model, Device device) =>
        new(model, config.MicroBatch, config.Sequence, ComputeTarget.DefaultComputeType(device) == ScalarType.BFloat16, config.Parallel.Layout,
            config.Parallel.DistributedOptimizer, config.Recompute, config.LossChunk);

    /// <summary>Throws a <see cref="UserError"/> when the predicted peak exceeds the device's free memory (unknown: nothing is refused).</summary>
    public static void Require(MemoryRequest request, Device device)
    {
        if (DeviceMemory.Free(device) is not { } free) return;
        Require(request, free);
    }

    /// <summary>Throws a <see cref="UserError"/> when the predicted peak exceeds <paramref name="free"/>.</summary>
    public static void Require(MemoryRequest request, DeviceMemory free)
    {
        var plan = MemoryPlanner.Plan(request);
        long needed = plan.TotalBytes;
        if (needed <= free.Bytes) return;
        var model = request.Model;
        var fix = MemoryAdvice.Smallest(MemoryAdvice.For(request, free.Bytes));
        throw new UserError($"model '{model.Name}' ({ModelAccounting.Of(model).TotalParams:N0} parameters, {model.Experts} experts) needs " +
            $"{DeviceMemory.Gb(needed)} GB per rank for a training step ({DeviceMemory.Gb(plan.StateBytes)} GB of weights, gradients and " +
            $"optimizer state, {DeviceMemory.Gb(plan.ActivationBytes + plan.TransientBytes)} GB of activations and buffers), but {free.Where} has " +
            $"{DeviceMemory.Gb(free.Bytes)} GB free, {DeviceMemory.Gb(needed - free.Bytes)} GB short; " +
            (fix is not null ? $"{fix.Setting} would fit ({DeviceMemory.Gb(fix.TotalBytes)} GB)" :
                "nothing the planner tries fits: use fewer or smaller experts, expert parallelism, or parallel.distributed_optimizer") +
            $" (flame model memory shows the plan)");
    }
}
