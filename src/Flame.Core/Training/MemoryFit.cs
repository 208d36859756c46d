using System.Globalization;
using Flame.Distributed;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// A model whose weights and optimizer state cannot fit in the device's memory is refused with the estimate
/// before anything is allocated (experts=100000 would otherwise allocate until the machine runs out of memory).
/// The estimate is a floor, not a forecast: fp32 master weights, their gradients and AdamW's two moments, 16 bytes a
/// parameter (the platform keeps fp32 masters on CUDA too, with bf16 compute copies and activations on top). Expert
/// parallelism divides the routed experts over the expert ranks; the distributed optimizer divides the two moments
/// over the data-parallel ranks (Megatron's ZeRO-1 accounting).
/// </summary>
public static class MemoryFit
{
    const int WeightBytes = 4, GradientBytes = 4, AdamStateBytes = 8;

    /// <summary>Bytes of weights, gradients and optimizer state one rank holds.</summary>
    public static double BytesPerRank(ModelConfig model, ParallelLayout layout, bool distributedOptimizer)
    {
        long experts = ModelAccounting.RoutedExpertParameterCount(model);
        double parameters = ModelAccounting.Of(model).TotalParams - experts + (double)experts / layout.Expert;
        double optimizerShare = distributedOptimizer && layout.World > 1 ? 1.0 / layout.Data : 1.0;
        return parameters * (WeightBytes + GradientBytes + AdamStateBytes * optimizerShare);
    }

    /// <summary>Throws a <see cref="UserError"/> with the estimate when it exceeds the device's free memory.</summary>
    public static void Require(ModelConfig model, ParallelLayout layout, bool distributedOptimizer, Device device)
    {
        double needed = BytesPerRank(model, layout, distributedOptimizer);
        if (Available(device) is not (long free, string where) || needed <= free) return;
        throw new UserError($"model '{model.Name}' ({ModelAccounting.Of(model).TotalParams:N0} parameters, {model.Experts} experts) needs at least " +
            $"{Gigabytes(needed)} GB per rank for fp32 weights, gradients and AdamW's two moments, but {where} has {Gigabytes(free)} GB free; " +
            "use fewer or smaller experts, expert parallelism, or parallel.distributed_optimizer");
    }

    /// <summary>Free memory of the device, or null when it cannot be read (then nothing is refused).</summary>
    static (long Free, string Where)? Available(Device device)
    {
        if (device.type == DeviceType.CUDA)
            return Runtime.CudaRuntimeApi.Instance?.MemoryInUse() is { } memory ? (memory.Total - memory.Used, $"CUDA device {device.index}") : null;
        return MemAvailable() is long available ? (available, "this machine") : (GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, "this machine");
    }

    /// <summary>Linux's estimate of memory available without swapping (/proc/meminfo MemAvailable, in kB).</summary>
    static long? MemAvailable()
    {
        const string path = "/proc/meminfo";
        if (!File.Exists(path)) return null;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("MemAvailable:", StringComparison.Ordinal));
        var parts = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts is { Length: >= 2 } && long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
    }

    static string Gigabytes(double bytes) => (bytes / 1e9).ToString("N1", CultureInfo.InvariantCulture);
}
