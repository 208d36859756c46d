using System.CommandLine;
using System.Text.Json;
using Flame.Benchmarking;
using Flame.Model;
using Flame.Runtime;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame bench step` and `flame bench train`: tokens/s of full training steps for a preset on a device.</summary>
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
            var result = ComputeDisplay.Status($"benchmarking {config.Name}...", _ => StepBenchmark.Run(options));
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(result, JsonOptions.Indented));
            else
                AnsiConsole.MarkupLine(
                    $"[bold]{result.Preset}[/] on {result.Device} ({result.Dtype}, {result.Dispatch}): " +
                    $"{result.TokensPerSecond:N0} tokens/s, {result.SecondsPerStep * 1000:N1} ms/step, " +
                    $"{result.ModelTflops:N2} model TFLOP/s, loss {result.FinalLoss:N3}");
            return 0;
        });
        return new Command("bench", "benchmarks") { step, Train(), BenchTokenizeCommand.Create() };
    }

    /// <summary>`flame bench train`: the trainer's step, timed, with MFU, device memory and an optional per-phase breakdown.</summary>
    static Command Train()
    {
        var preset = CommonOptions.Preset();
        var set = CommonOptions.ModelSet();
        var device = CommonOptions.Device();
        var json = CommonOptions.Json();
        var dtype = CommonOptions.Dtype();
        var microBatch = new Option<int>("--micro-batch") { Description = "sequences per micro-batch", DefaultValueFactory = _ => 1 };
        var accumulation = new Option<int>("--accumulation") { Description = "micro-batches per optimizer step", DefaultValueFactory = _ => 1 };
        var seq = new Option<int?>("--seq") { Description = "tokens per sequence (default: the model's max positions)" };
        var steps = new Option<int>("--steps") { Description = "timed steps", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "untimed steps first", DefaultValueFactory = _ => 3 };
        var data = new Option<string?>("--data") { Description = "token file (dataset prefix) read as the trainer reads it; default synthetic ids" };
        var dispatch = new Option<string>("--dispatch") { Description = "grouped (default) or reference", DefaultValueFactory = _ => "grouped" };
        var peak = new Option<double?>("--peak-tflops") { Description = "device peak for MFU (default 989, H100 bf16 dense, on CUDA)" };
        var fused = new Option<bool>("--fused-adamw") { Description = "AdamW through torch._fused_adamw_ (one kernel per group)" };
        var perOpCasts = new Option<bool>("--per-op-casts") { Description = "cast bf16 weights in every op (the old way) instead of once per step" };
        var breakdown = new Option<int>("--breakdown") { Description = "profiled steps after the timed ones, timed per phase (may synchronise)", DefaultValueFactory = _ => 0 };
        var timer = new Option<string>("--breakdown-timer") { Description = "auto (CUDA events if cudart is found), events or sync", DefaultValueFactory = _ => "auto" };
        var train = new Command("train", "time real training steps (the trainer's step) on a token file or synthetic ids")
            { preset, set, device, microBatch, accumulation, seq, steps, warmup, data, dispatch, dtype, peak, fused, perOpCasts, breakdown, timer, json };
        train.SetAction(parse =>
        {
            var config = CommonOptions.ResolveModel(parse, preset, set);
            var options = new TrainBenchmarkOptions(
                config, TorchRuntime.Resolve(DeviceChoiceParser.Parse(parse.GetValue(device)!)),
                parse.GetValue(microBatch), parse.GetValue(seq) ?? config.MaxPositions, parse.GetValue(steps), parse.GetValue(warmup),
                parse.GetValue(accumulation), parse.GetValue(data), ParseDispatch(parse.GetValue(dispatch)!),
                CommonOptions.ParseDtype(parse.GetValue(dtype)), parse.GetValue(peak), parse.GetValue(fused), !parse.GetValue(perOpCasts),
                parse.GetValue(breakdown), parse.GetValue(timer)!.ToLowerInvariant());
            var r = parse.GetValue(json) ? TrainBenchmark.Run(options)
                : ComputeDisplay.Status($"benchmarking {config.Name}...", _ => TrainBenchmark.Run(options));
            if (parse.GetValue(json)) { Console.WriteLine(JsonSerializer.Serialize(r, JsonOptions.Indented)); return 0; }
            AnsiConsole.MarkupLine(
                $"[bold]{r.Preset}[/] on {r.Device} ({r.Dtype}, {r.Dispatch}, {Markup.Escape(r.Data)}): {r.TokensPerSecond:N0} tokens/s, " +
                $"{r.SecondsPerStep * 1000:N1} ms/step, {r.ModelTflops:N2} model TFLOP/s" +
                (r.Mfu is { } mfu ? $", MFU {mfu:P1}" : "") + $", loss {r.FirstLoss:N3} -> {r.FinalLoss:N3}");
            AnsiConsole.MarkupLine(r.Memory.PeakBytes is { } bytes
                ? $"peak device memory {bytes / 1e9:N2} GB ({Markup.Escape(r.Memory.How)})" : $"memory: {Markup.Escape(r.Memory.How)}");
            if (r.Breakdown is { } b)
            {
                var table = new Table().AddColumns("phase", "ms/step", "share");
                foreach (var p in b.Phases) table.AddRow(p.Phase, $"{p.MillisecondsPerStep:N2}", $"{p.Share:P1}");
                table.Caption($"{b.Steps} profiled steps, {b.MillisecondsPerStep:N1} ms/step, timed by {b.Timer}");
                AnsiConsole.Write(table);
            }
            return 0;
        });
        return train;
    }

    static DispatchMode ParseDispatch(string text) => text.ToLowerInvariant() switch
    {
        "grouped" => DispatchMode.Grouped,
        "reference" => DispatchMode.Reference,
        _ => throw new UserError($"unknown dispatch '{text}'; valid choices: grouped, reference"),
    };
}
