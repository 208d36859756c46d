namespace Flame.Failures;

/// <summary>
/// Where an unexpected failure's stack trace goes, so the terminal gets one line and a developer still gets
/// the trace: /tmp/flame-crash-TIME-PID.log (or FLAME_CRASH_DIR), or stderr itself when FLAME_DEBUG=1.
/// </summary>
public static class CrashLog
{
    public static bool DebugEnabled => Environment.GetEnvironmentVariable("FLAME_DEBUG") is "1" or "true";

    /// <summary>Writes the full exception and the command line; returns the file's path, or null when it could not be written.</summary>
    public static string? Write(Exception e, IReadOnlyList<string> args)
    {
        try
        {
            string folder = Environment.GetEnvironmentVariable("FLAME_CRASH_DIR") is { Length: > 0 } dir ? dir : Path.GetTempPath();
            string path = Path.Combine(folder, $"flame-crash-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
            File.WriteAllText(path, $"flame {string.Join(' ', args)}\n{DateTime.UtcNow:O} pid {Environment.ProcessId}\n\n{e}\n");
            return path;
        }
        catch (Exception inner) when (inner is IOException or UnauthorizedAccessException) { return null; } // the disk that failed may be the temp disk too
    }
}
