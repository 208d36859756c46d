using System.CommandLine;
using Flame.Cli;

namespace Flame.Tests;

/// <summary>Runs `flame` commands in-process with stdout and stderr captured, as a user would see them.</summary>
public static class CliHarness
{
    public static (int Code, string Out, string Err) Run(Command[] commands, params string[] args)
    {
        var root = new RootCommand();
        foreach (var command in commands) root.Subcommands.Add(command);
        var (oldOut, oldErr) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try { return (CommandRunner.Run(root, args), stdout.ToString(), stderr.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }
}
