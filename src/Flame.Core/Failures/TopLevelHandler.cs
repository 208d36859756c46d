namespace Flame.Failures;

/// <summary>
/// The CLI's last catch: prints an exception as one line on stderr ("error: ..."), plus the path of a crash
/// log with the stack trace when the failure was unexpected, or the trace itself when FLAME_DEBUG=1.
/// </summary>
public static class TopLevelHandler
{
    public static int Report(Exception e, TextWriter stderr, IReadOnlyList<string> args)
    {
        var report = FailureReport.Of(e);
        string line = "error: " + OneLine(report.Line);
        if (CrashLog.DebugEnabled)
        {
            stderr.WriteLine(line);
            stderr.WriteLine(e.ToString());
            return report.ExitCode;
        }
        if (report.Unexpected && CrashLog.Write(e, args) is { } log) line += $" (stack trace in {log}; FLAME_DEBUG=1 prints it)";
        stderr.WriteLine(line);
        return report.ExitCode;
    }

    static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
