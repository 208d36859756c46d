using System.CommandLine;
using Flame.Reporting;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame report`: one self-contained HTML page per run.</summary>
public static class ReportCommands
{
    public static Command Create()
    {
        var run = new Option<string>("--run") { Description = "run folder", DefaultValueFactory = _ => "runs/demo" };
        var command = new Command("report", "write RUN/report/index.html: config, loss curves, evaluation, scaling figures and routing analyses, viewable offline") { run };
        command.SetAction(parse =>
        {
            var path = ReportWriter.Write(parse.GetValue(run)!);
            AnsiConsole.MarkupLineInterpolated($"report: [bold]{path}[/]");
            return 0;
        });
        return command;
    }
}
