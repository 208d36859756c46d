using System.CommandLine;
using Flame.Cli;
using Spectre.Console;

namespace Flame.Tests;

/// <summary>Runs `flame` commands in-process with stdout and stderr captured, as a user would see them.</summary>
public static class CliHarness
{
    public static (int Code, string Out, string Err) Run(Command[] commands, params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in commands) root.Subcommands.Add(command);
        var (oldOut, oldErr, oldAnsi) = (Console.Out, Console.Error, AnsiConsole.Console);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        // Spectre's console keeps the stdout it found at first use (perhaps an earlier test's writer): give it this one,
        // plain and wide, so tables and markup lines land in the captured stdout unwrapped.
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(stdout), Interactive = InteractionSupport.No,
        });
        AnsiConsole.Console.Profile.Width = 400;
        try { return (CommandRunner.Run(root, args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); AnsiConsole.Console = oldAnsi; }
    }
}
