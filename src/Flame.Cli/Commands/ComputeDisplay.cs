using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>
/// Spectre.Console statuses and progress bars that redraw only when the work reports, on the work's own thread.
/// Why: Spectre's auto-refresh draws from a thread of its own, and its allocations can start a garbage collection
/// while the compute thread is inside libtorch. TorchSharp 0.107 hands the temporary Scalars it makes (the alpha = 1
/// of every tensor +, every numeric literal) to native code without keeping them alive, so a collection at that
/// moment can finalize a Scalar that libtorch is still reading. Seen once here: "toFloat: Expected false to be
/// true" from the add in RoPE during `flame run`'s tracing (upstream: dotnet/TorchSharp pull requests 1434 and
/// 1496). When only the compute thread allocates, a collection can start only between native calls.
/// </summary>
static class ComputeDisplay
{
    /// <summary>A one-line status with a spinner; <paramref name="work"/> gets a callback that sets a new line.</summary>
    public static T Status<T>(string status, Func<Action<string>, T> work) =>
        Start(AnsiConsole.Progress().AutoClear(true), [new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }], context =>
        {
            var line = context.AddTask(status, maxValue: 1).IsIndeterminate();
            context.Refresh();
            return work(message =>
            {
                line.Description = message;
                context.Refresh();
            });
        });

    public static void Status(string status, Action<Action<string>> work) => Status(status, report => { work(report); return 0; });

    /// <summary>Progress bars; the work calls the context's Refresh after it updates them (or <see cref="Throttled"/>).</summary>
    public static T Progress<T>(ProgressColumn[] columns, Func<ProgressContext, T> work) => Start(AnsiConsole.Progress(), columns, work);

    /// <summary>A refresh that redraws at most ten times a second, for work that reports more often than that.</summary>
    public static Action Throttled(ProgressContext context)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return () =>
        {
            if (clock.ElapsedMilliseconds < 100) return;
            context.Refresh();
            clock.Restart();
        };
    }

    static T Start<T>(Spectre.Console.Progress progress, ProgressColumn[] columns, Func<ProgressContext, T> work) =>
        progress.AutoRefresh(false).Columns(columns).Start(work);
}
