using Flame.Memory;
using Flame.Model;
using Flame.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// A run whose weights, gradients and optimizer state cannot fit in the device's free memory is refused before anything
/// is allocated (experts=100000 would otherwise allocate until the machine runs out of memory): that part of the
/// figure is certain. <see cref="MemoryPlanner"/>'s predicted peak of one rank's step adds the bf16 copies, the
/// activations kept for the backward and the largest transient buffer; when only that total is over, the run is told
/// (by how much, and the smallest change that fits, <see cref="MemoryAdvice"/>) and goes on, since a prediction can be
/// off where a floor cannot (bench/RESULTS.md, "Memory planner against measured peaks").
/// </summary>
public static class MemoryFit
{
    /// <summary>The planner's request for the step a training config runs on <paramref name="device"/>.</summary>
    public static MemoryRequest RequestFor(TrainingConfig config, ModelConfig model, Device device) =>
        new(model, config.MicroBatch, config.Sequence, ComputeTarget.DefaultComputeType(device) == ScalarType.BFloat16, config.Parallel.Layout,
            config.Parallel.DistributedOptimizer, config.Recompute, config.LossChunk, Cpu: device.type != DeviceType.CUDA);

    /// <summary>Checks the plan against the device's free memory (unknown: nothing is checked); <paramref name="warn"/> hears a predicted shortfall.</summary>
    public static void Require(MemoryRequest request, Device device, Action<string>? warn = null)
    {
        if (DeviceMemory.Free(device) is not { } free) return;
        Require(request, free, warn);
    }

    /// <summary>Throws a <see cref="UserError"/> when the state alone exceeds <paramref name="free"/>; warns when the predicted peak does.</summary>
    public static void Require(MemoryRequest request, DeviceMemory free, Action<string>? warn = null)
    {
        var plan = MemoryPlanner.Plan(request);
        long needed = plan.TotalBytes;
        if (needed <= free.Bytes) return;
        var model = request.Model;
        var fix = MemoryAdvice.Smallest(MemoryAdvice.For(request, free.Bytes));
        var advice = fix is not null ? $"{fix.Setting} would fit ({DeviceMemory.Gb(fix.TotalBytes)} GB)" :
            "nothing the planner tries fits: use fewer or smaller experts, expert parallelism, or parallel.distributed_optimizer";
        var figures = $"{DeviceMemory.Gb(needed)} GB per rank for a training step ({DeviceMemory.Gb(plan.StateBytes)} GB of weights, gradients and " +
            $"optimizer state, {DeviceMemory.Gb(plan.ActivationBytes + plan.TransientBytes)} GB of activations and buffers), but {free.Where} has " +
            $"{DeviceMemory.Gb(free.Bytes)} GB free, {DeviceMemory.Gb(needed - free.Bytes)} GB short";
        if (plan.StateBytes > free.Bytes)
            throw new UserError($"model '{model.Name}' ({ModelAccounting.Of(model).TotalParams:N0} parameters, {model.Experts} experts) needs " +
                $"{figures}; {advice} (flame model memory shows the plan)");
        warn?.Invoke($"warning: the memory planner predicts {figures}; {advice}; training starts anyway, as weights, gradients and " +
            "optimizer state fit and the prediction may be off (flame model memory shows the plan)");
    }
}
