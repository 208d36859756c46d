using System.CommandLine;
using Flame.Failures;

namespace Flame.Cli;

/// <summary>
/// Runs a parsed command; every failure becomes one line on stderr, never a stack trace: exit 2 for a user's
/// mistake, 1 for the environment (disk full, permission denied) or a bug (Failures/TopLevelHandler).
/// </summary>
public static class CommandRunner
{
    public const int UserErrorExitCode = ExitCodes.UserMistake;

    public static int Run(RootCommand root, string[] args)
    {
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
            return UserErrorExitCode;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return TopLevelHandler.Report(e, Console.Error, args);
        }
    }
}
