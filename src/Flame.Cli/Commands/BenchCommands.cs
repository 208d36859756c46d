using System.CommandLine;
using Flame.Benchmarking;
using Flame.Distributed;
using Flame.Model;
using Flame.Output;
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
            var target = CommonOptions.Target(parse, device, dtype);
            var options = new StepBenchmarkOptions(
                config, target.Device,
                parse.GetValue(microBatch), parse.GetValue(seq) ?? config.MaxPositions,
                parse.GetValue(steps), parse.GetValue(warmup), ParseDispatch(parse.GetValue(dispatch)!),
                target.ComputeType);
            var result = ComputeDisplay.Status($"benchmarking {config.Name}...", _ => StepBenchmark.Run(options));
            return JsonOrTable.Print(parse, json, result, () =>
                AnsiConsole.MarkupLine(
                    $"[bold]{result.Preset}[/] on {result.Device} ({result.Dtype}, {result.Dispatch}): " +
                    $"{result.TokensPerSecond:N0} tokens/s, {result.SecondsPerStep * 1000:N1} ms/step, " +
                    $"{result.ModelTflops:N2} model TFLOP/s, loss {result.FinalLoss:N3}"));
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
        var peak = new Option<double?>("--peak-tflops") { Description = $"device peak for MFU (default {PeakTflops.H100Bf16Dense:G}, H100 bf16 dense, on CUDA)" };
        var adamw = new Option<string>("--adamw")
            { Description = "fused (the trainer's default, optimizer.fused: torch._fused_adamw_, one kernel per group) or plain (one op at a time per parameter)", DefaultValueFactory = _ => "fused" };
        var fused = new Option<bool>("--fused-adamw") { Description = "the same as --adamw fused", Hidden = true };
        var recompute = new Option<string>("--recompute")
            { Description = "activation recompute, as training.recompute: none (default), selective (rerun the norms, attention core and SwiGLUs from their inputs) or full (keep each block's input, rerun the block in the backward)", DefaultValueFactory = _ => "none" };
        var perOpCasts = new Option<bool>("--per-op-casts") { Description = "cast bf16 weights in every op instead of once per step" };
        var breakdown = new Option<int>("--breakdown") { Description = "profiled steps after the timed ones, timed per phase (may synchronise)", DefaultValueFactory = _ => 0 };
        var lossChunk = new Option<int>("--loss-chunk") { Description = "tokens per chunk of the output layer and loss, as training.loss_chunk (0: the whole logits)", DefaultValueFactory = _ => 0 };
        var timer = new Option<string>("--breakdown-timer") { Description = "auto (CUDA events if cudart is found), events or sync", DefaultValueFactory = _ => "auto" };
        var parallel = new Option<bool>("--parallel") { Description = "under mpirun/srun: time every expert-parallel layout the ranks and experts allow" };
        var distributedOptimizer = new Option<bool>("--distributed-optimizer") { Description = "with --parallel: AdamW state sharded over the data-parallel ranks" };
        var output = new OutOption("with --parallel: also write the table to this CSV file", "CSV");
        var overwrite = CommonOptions.Overwrite("replace an existing --out file");
        var train = new Command("train", "time real training steps (the trainer's step) on a token file or synthetic ids")
            { preset, set, device, microBatch, accumulation, seq, steps, warmup, data, dispatch, dtype, peak, adamw, fused, recompute, perOpCasts, breakdown, timer, lossChunk, json,
              parallel, distributedOptimizer, output, overwrite };
        train.SetAction(parse =>
        {
            var config = CommonOptions.ResolveModel(parse, preset, set);
            bool isParallel = parse.GetValue(parallel);
            var target = CommonOptions.Target(parse, device, dtype);
            if (parse.GetValue(lossChunk) < 0) throw new UserError("--loss-chunk must be at least 0 (0: the whole logits at once)");
            var options = new TrainBenchmarkOptions(
                config, isParallel ? ProcessWorld.LocalDevice(target.Device) : target.Device,
                parse.GetValue(microBatch), parse.GetValue(seq) ?? config.MaxPositions, parse.GetValue(steps), parse.GetValue(warmup),
                parse.GetValue(accumulation), parse.GetValue(data), ParseDispatch(parse.GetValue(dispatch)!),
                target.ComputeType, parse.GetValue(peak), ParseFused(parse.GetValue(adamw)!, parse.GetValue(fused)), !parse.GetValue(perOpCasts),
                parse.GetValue(breakdown), parse.GetValue(timer)!.ToLowerInvariant(),
                Recompute: RecomputeModes.Parse(parse.GetValue(recompute)!), LossChunk: parse.GetValue(lossChunk));
            if (isParallel)
                return ParallelTable(new ParallelBenchmarkOptions(options, parse.GetValue(distributedOptimizer)),
                    output.Get(parse), output.Spelling(parse), parse.GetValue(overwrite), parse.GetValue(json));
            if (output.Get(parse) is not null || parse.GetValue(distributedOptimizer))
                throw new UserError($"{output.Spelling(parse)} and --distributed-optimizer go with --parallel; add it, or leave them out");
            var r = parse.GetValue(json) ? TrainBenchmark.Run(options)
                : ComputeDisplay.Status($"benchmarking {config.Name}...", _ => TrainBenchmark.Run(options));
            if (parse.GetValue(json)) { JsonOrTable.WriteJson(r); return 0; }
            AnsiConsole.MarkupLine(
                $"[bold]{r.Preset}[/] on {r.Device} ({r.Dtype}, {r.Dispatch}, recompute {r.Recompute}, {Markup.Escape(r.Data)}): {r.TokensPerSecond:N0} tokens/s, " +
                $"{r.SecondsPerStep * 1000:N1} ms/step, {r.ModelTflops:N2} model TFLOP/s" +
                (r.LossChunk > 0 ? $", loss in chunks of {r.LossChunk} tokens" : "") +
                (r.Mfu is { } mfu ? $", MFU {mfu:P1}" : "") + $", loss {r.FirstLoss:N3} -> {r.FinalLoss:N3}");
            AnsiConsole.MarkupLine(r.Memory.PeakBytes is { } bytes
                ? $"peak {(r.Device.StartsWith("cpu", StringComparison.OrdinalIgnoreCase) ? "host" : "device")} memory {bytes / 1e9:N2} GB ({Markup.Escape(r.Memory.How)})" : $"memory: {Markup.Escape(r.Memory.How)}");
            if (r.Breakdown is { } b) WriteBreakdown(b);
            return 0;
        });
        return train;
    }

    /// <summary>`bench train --parallel`: every rank times the layouts; rank 0 prints the table and writes the CSV.</summary>
    static int ParallelTable(ParallelBenchmarkOptions options, string? csv, string csvOption, bool overwrite, bool json)
    {
        ParallelBenchmark.Check(options);
        var world = ProcessWorld.For(options.Step.Device); // joins the job first, so a refusal below stops every rank
        bool main = ProcessWorld.IsMain;
        if (main && csv is not null)
        {
            OutputFiles.RequireNew(csvOption, overwrite, csv);
            OutputPaths.RequireFolderFor(csv);
        }
        if (main && !json)
            AnsiConsole.WriteLine(ProcessWorld.Launch.Size > 1
                ? $"{world.Size} ranks ({ProcessWorld.Launch.Launcher}): timing expert-parallel sizes " +
                  $"{string.Join(", ", ParallelBenchmark.ExpertSizes(world.Size, options.Step.Model.Experts, options.Step.Dispatch))} of {options.Step.Model.Experts} experts"
                : "no launcher: one process, so the single layout data 1 x expert 1; start it under mpirun -np N or srun for the others");
        var r = ParallelBenchmark.Run(options, world, ProcessWorld.Launch.Launcher);
        if (!main) return 0;
        if (csv is not null) OutputFiles.WriteText(csv, ParallelBenchmark.Csv(r).Text);
        if (json) { JsonOrTable.WriteJson(r); return 0; }
        var table = new Table().AddColumns("data x expert", "ms/step", "tokens/s", "TFLOP/s/device", "MFU", "loss first, last");
        foreach (var l in r.Layouts)
            table.AddRow($"{l.Data} x {l.Expert}", $"{l.SecondsPerStep * 1000:N1}", $"{l.TokensPerSecond:N0}", $"{l.TflopsPerDevice:N4}",
                l.Mfu is { } mfu ? $"{mfu:P1}" : "-", $"{l.FirstLoss:N4}, {l.FinalLoss:N4}");
        table.Caption(Markup.Escape($"{r.Preset} on {r.World} x {r.Device} ({r.Dtype}, {r.Dispatch}, {(r.FusedAdamW ? "fused" : "plain")} AdamW, {r.Data}), global batch {r.GlobalBatch} = micro {r.MicroBatch} x " +
            $"accumulation {r.Accumulation} x {r.World} ranks, seq {r.Sequence}; {r.Warmup} warm-up + {r.Steps} timed steps" +
            (r.DistributedOptimizer ? ", distributed optimizer" : "") + (r.PeakTflops is { } p ? $"; MFU against {p:G4} TFLOP/s" : "; no peak known, no MFU (--peak-tflops)")));
        AnsiConsole.Write(table);
        foreach (var l in r.Layouts)
            if (l.Breakdown is { } b)
            {
                AnsiConsole.MarkupLineInterpolated($"data {l.Data} x expert {l.Expert}, rank 0's phases:");
                WriteBreakdown(b);
            }
        if (csv is not null) AnsiConsole.MarkupLineInterpolated($"wrote {csv}");
        return 0;
    }

    static void WriteBreakdown(PhaseBreakdown b)
    {
        var table = new Table().AddColumns("phase", "ms/step", "share");
        foreach (var p in b.Phases) table.AddRow(p.Phase, $"{p.MillisecondsPerStep:N2}", $"{p.Share:P1}");
        table.Caption(Markup.Escape($"{b.Steps} profiled steps, {b.MillisecondsPerStep:N1} ms/step, timed by {b.Timer}"));
        AnsiConsole.Write(table);
    }

    static bool ParseFused(string adamw, bool fusedFlag) => adamw.ToLowerInvariant() switch
    {
        "fused" => true,
        "plain" when fusedFlag => throw new UserError("--fused-adamw is --adamw fused; give one of --adamw plain and --fused-adamw"),
        "plain" => false,
        _ => throw new UserError($"unknown --adamw '{adamw}'; valid choices: fused, plain"),
    };

    static DispatchMode ParseDispatch(string text) => text.ToLowerInvariant() switch
    {
        "grouped" => DispatchMode.Grouped,
        "reference" => DispatchMode.Reference,
        _ => throw new UserError($"unknown dispatch '{text}'; valid choices: grouped, reference"),
    };
}
