using System.CommandLine;
using Flame;

namespace Flame.Cli;

/// <summary>Runs a parsed command; a user's mistake becomes one line on stderr and exit code 2, never a stack trace.</summary>
public static class CommandRunner
{
    public const int UserErrorExitCode = 2;

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
        catch (UserError e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return UserErrorExitCode;
        }
        catch (System.Runtime.InteropServices.ExternalException e) when (e.Message.Contains("out of memory"))
        {
            // A too-large micro-batch is the usual cause: say so in one line rather than dump libtorch's trace.
            Console.Error.WriteLine($"error: {e.Message.Split('\n')[0].Split(". Including")[0]}. Lower training.micro_batch (gradient accumulation keeps the global batch), or --micro-batch for bench and eval commands.");
            return UserErrorExitCode;
        }
    }
}
