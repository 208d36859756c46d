using Spectre.Console;

namespace Flame.Tests.Safety;

/// <summary>
/// Runs a command with Spectre's console (tables, markup lines) written to a string, since AnsiConsole keeps the
/// stdout it found at first use and CliHarness's redirection does not reach it.
/// </summary>
public static class SpectreCapture
{
    public static (int Code, string Out, string Err) Run(Func<(int Code, string Out, string Err)> command)
    {
        var previous = AnsiConsole.Console;
        var markup = new StringWriter();
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(markup), Interactive = InteractionSupport.No,
        });
        AnsiConsole.Console.Profile.Width = 400;
        try
        {
            var (code, stdout, stderr) = command();
            return (code, stdout + markup, stderr);
        }
        finally { AnsiConsole.Console = previous; }
    }
}
