using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Memory;

/// <summary>How much memory a rank's device has for a step, and where the figure came from.</summary>
public sealed record DeviceMemory(long Bytes, string Where)
{
    /// <summary>An 80 GB H100, the release runs' GPU (decimal gigabytes, as every figure the planner prints).</summary>
    public static DeviceMemory H100 { get; } = new(80_000_000_000, "an 80 GB H100");

    public static DeviceMemory Gigabytes(double gb, string where) => new((long)(gb * 1e9), where);

    /// <summary>This machine's MemAvailable (Linux), or what .NET says is available.</summary>
    public static DeviceMemory ThisMachine() =>
        new(MemAvailable() ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, "this machine (MemAvailable)");

    /// <summary>Free memory of a device now, or null when it cannot be read (then nothing is refused).</summary>
    public static DeviceMemory? Free(Device device)
    {
        if (device.type == DeviceType.CUDA)
            return Runtime.CudaRuntimeApi.Instance?.MemoryInUse() is { } memory ? new(memory.Total - memory.Used, $"CUDA device {device.index}") : null;
        return ThisMachine();
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

    /// <summary>Bytes as decimal gigabytes with one decimal (0.0 GB for anything under 50 MB: use <see cref="Format"/>).</summary>
    public static string Gb(double bytes) => (bytes / 1e9).ToString("N1", CultureInfo.InvariantCulture);

    /// <summary>Bytes in the largest unit that keeps the number readable (GB, MB, kB).</summary>
    public static string Format(double bytes) =>
        bytes >= 1e9 ? $"{Gb(bytes)} GB" : bytes >= 1e6 ? $"{(bytes / 1e6).ToString("N1", CultureInfo.InvariantCulture)} MB"
        : $"{(bytes / 1e3).ToString("N1", CultureInfo.InvariantCulture)} kB";
}
