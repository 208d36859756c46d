namespace Flame.Benchmarking;

/// <summary>This process's resident memory from Linux's /proc/self/status (null elsewhere), in bytes.</summary>
public static class HostPeakMemory
{
    /// <summary>Resident memory now (VmRSS).</summary>
    public static long? Resident() => Read("VmRSS:");

    /// <summary>The most resident memory the process has held (VmHWM, its high-water mark).</summary>
    public static long? Peak() => Read("VmHWM:");

    static long? Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return null;
        foreach (var line in File.ReadLines(status))
            if (line.StartsWith(field, StringComparison.Ordinal)
                && long.TryParse(line[field.Length..].Trim().Split(' ')[0], out long kib))
                return kib * 1024;
        return null;
    }
}
