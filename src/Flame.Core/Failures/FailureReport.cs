using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Flame.Failures;

/// <summary>
/// One exception as the user sees it: one line and an exit code (<see cref="ExitCodes"/>). User mistakes
/// (UserError, a path that does not exist, a file that is not what it claims) exit 2; the environment (disk
/// full, permission denied, read-only file system) exits 1; anything else is a bug, exit 1, whose stack
/// trace goes to a <see cref="CrashLog"/>.
/// </summary>
public sealed record FailureReport(int ExitCode, string Line, bool Unexpected)
{
    public static FailureReport Of(Exception e)
    {
        e = Unwrap(e);
        return e switch
        {
            UserError => new(ExitCodes.UserMistake, e.Message, false),
            EnvironmentError => new(ExitCodes.Environment, e.Message, false),
            _ when WrongKindOfPath.Explain(e) is { } wrongKind => new(ExitCodes.UserMistake, wrongKind, false),
            _ when IoFailure.IsDiskFull(e) => new(ExitCodes.Environment, $"disk full: {e.Message}; free some space or write to another disk", false),
            _ when IoFailure.IsReadOnlyFileSystem(e) => new(ExitCodes.Environment, $"read-only file system: {e.Message}; write to another folder", false),
            UnauthorizedAccessException => new(ExitCodes.Environment, $"permission denied: {e.Message}", false),
            FileNotFoundException or DirectoryNotFoundException => new(ExitCodes.UserMistake, e.Message, false),
            // A libtorch allocation failure is almost always a too-large batch.
            ExternalException when e.Message.Contains("out of memory") => new(ExitCodes.UserMistake,
                $"{e.Message.Split('\n')[0].Split(". Including")[0]}. Lower training.micro_batch (gradient accumulation keeps the global batch), or --micro-batch for bench and eval commands.", false),
            OutOfMemoryException => new(ExitCodes.Environment, "out of memory: the process could not allocate what it needed; use a smaller model, batch or input", true),
            IOException => new(ExitCodes.Environment, e.Message, true),
            JsonException => new(ExitCodes.UserMistake, $"malformed JSON: {e.Message}", true),
            _ => new(ExitCodes.Environment, $"internal error ({e.GetType().Name}: {FirstLine(e.Message)})", true),
        };
    }

    static Exception Unwrap(Exception e)
    {
        while (true)
        {
            switch (e)
            {
                case AggregateException { InnerExceptions.Count: 1 } a: e = a.InnerExceptions[0]; break;
                case TargetInvocationException { InnerException: { } inner }: e = inner; break;
                case TypeInitializationException { InnerException: { } inner }: e = inner; break;
                default: return e;
            }
        }
    }

    static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
