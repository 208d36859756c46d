using System.CommandLine;
using Flame.Tracing;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame trace`: record every checkpoint's routing over a fixed held-out token set (spec §5).</summary>
public static class TraceCommands
{
    public static Command Create()
    {
        var defaults = new TraceOptions();
        var run = new Option<string>("--run") { Description = "run folder (with checkpoints/ and config.json)", DefaultValueFactory = _ => "runs/demo" };
        var tokens = new Option<long>("--tokens") { Description = "held-out tokens to trace (whole samples)", DefaultValueFactory = _ => defaults.Tokens };
        var seq = new Option<int?>("--seq") { Description = "tokens per sample (default: the run's)" };
        var batch = new Option<int>("--batch") { Description = "sequences per forward pass", DefaultValueFactory = _ => defaults.BatchSize };
        var data = new Option<string[]>("--data") { Description = "dataset prefix(es) to take the traced split from (default: the run's)", AllowMultipleArgumentsPerToken = true };
        var split = new Option<string>("--split") { Description = "split whose first samples are traced: test (as FLAME-MoE traced), valid or train", DefaultValueFactory = _ => defaults.Split };
        var output = new OutOption("trace folder (default: RUN/traces)");
        var device = CommonOptions.Device();
        var overwrite = CommonOptions.Overwrite("trace into an --out Flame did not write, removing only samples/, actives/ and manifest.json there");
        var command = new Command("trace", "record each checkpoint's top-k experts and gate scores for a fixed held-out token set, in the FLAME-MoE trace layout")
            { run, tokens, seq, batch, data, split, output, device, overwrite };
        command.SetAction(parse =>
        {
            var options = new TraceOptions
            {
                Tokens = parse.GetValue(tokens), Sequence = parse.GetValue(seq), BatchSize = parse.GetValue(batch),
                Data = parse.GetValue(data) is { Length: > 0 } d ? d : null, Output = output.Get(parse), OutputOption = output.Spelling(parse), Device = parse.GetValue(device)!,
                Split = TraceSplit.Parse(parse.GetValue(split)!, "--split"), Overwrite = parse.GetValue(overwrite),
            };
            var result = TraceCapture.Run(parse.GetValue(run)!, options, message => AnsiConsole.MarkupLineInterpolated($"[grey]{message}[/]"));
            AnsiConsole.MarkupLineInterpolated(
                $"traced {result.Tokens:N0} tokens x {result.Layers} MoE layers at {result.Checkpoints.Count} checkpoints ({result.Skipped.Count} already traced) in {result.Seconds:N1} s: [bold]{result.Folder}[/]");
            return 0;
        });
        return command;
    }
}
