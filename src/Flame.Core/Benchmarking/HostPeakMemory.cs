namespace Flame.Benchmarking;

/// <summary>
/// The process's peak resident memory on Linux (/proc/self/status VmHWM), restartable: <see cref="Restart"/> resets the
/// peak to the current resident size (writing 5 to /proc/self/clear_refs) and returns that size, the baseline, so the
/// peak read later is the most the process held since. Null where /proc is missing or refuses the reset.
/// </summary>
public static class HostPeakMemory
{
    /// <summary>Resets the peak and returns the resident bytes now (VmRSS), or null.</summary>
    public static long? Restart()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return Field("VmRSS:");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    /// <summary>The peak resident bytes since the last <see cref="Restart"/> (VmHWM), or null.</summary>
    public static long? Peak()
    {
        try { return Field("VmHWM:"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }

    static long? Field(string name)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal));
        if (line is null) return null;
        var parts = line[name.Length..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries); // "\t  123456 kB"
        return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
