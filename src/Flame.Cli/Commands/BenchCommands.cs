using System.CommandLine;
using System.Text.Json;
using Flame.Benchmarking;
using Flame.Model;
using Flame.Runtime;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame bench step`: tokens/s of full training steps for a preset on a device.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var preset = CommonOptions.Preset();
        var set = CommonOptions.ModelSet();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var microBatch = new Option<int>("--micro-batch") { Description = "sequences per step", DefaultValueFactory = _ => 1 };
        var seq = new Option<int?>("--seq") { Description = "tokens per sequence (default: the model's max positions)" };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 2 };
        var dispatch = new Option<string>("--dispatch") { Description = "grouped (default) or reference", DefaultValueFactory = _ => "grouped" };
        var dtype = CommonOptions.Dtype();
        var step = new Command("step", "time forward+backward+optimizer steps on synthetic tokens")
            { preset, set, device, microBatch, seq, steps, warmup, dispatch, dtype, json };
        step.SetAction(parse =>
        {
            var config = CommonOptions.ResolveModel(parse, preset, set);
            var options = new StepBenchmarkOptions(
                config, TorchRuntime.Resolve(DeviceChoiceParser.Parse(parse.GetValue(device)!)),
                parse.GetValue(microBatch), parse.GetValue(seq) ?? config.MaxPositions,
                parse.GetValue(steps), parse.GetValue(warmup), ParseDispatch(parse.GetValue(dispatch)!),
                CommonOptions.ParseDtype(parse.GetValue(dtype)));
            var result = AnsiConsole.Status().Start($"benchmarking {config.Name}...", _ => StepBenchmark.Run(options));
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(result, JsonOptions.Indented));
            else
                AnsiConsole.MarkupLine(
                    $"[bold]{result.Preset}[/] on {result.Device} ({result.Dtype}, {result.Dispatch}): " +
                    $"{result.TokensPerSecond:N0} tokens/s, {result.SecondsPerStep * 1000:N1} ms/step, " +
                    $"{result.ModelTflops:N2} model TFLOP/s, loss {result.FinalLoss:N3}");
            return 0;
        });
        return new Command("bench", "benchmarks") { step };
    }

    static DispatchMode ParseDispatch(string text) => text.ToLowerInvariant() switch
    {
        "grouped" => DispatchMode.Grouped,
        "reference" => DispatchMode.Reference,
        _ => throw new UserError($"unknown dispatch '{text}'; valid choices: grouped, reference"),
    };
}
