using System.CommandLine;
using Flame.Data;
using Flame.Training;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame train`: the FLAME-MoE recipe on a dataset (the demo corpus when none is named).</summary>
public static class TrainCommands
{
    public static Command Create()
    {
        var defaults = new TrainingConfig();
        var run = new Option<string>("--run") { Description = "run folder (config, metrics.jsonl, checkpoints)", DefaultValueFactory = _ => "runs/demo" };
        var preset = CommonOptions.Preset(required: false);
        preset.DefaultValueFactory = _ => defaults.Preset;
        var set = CommonOptions.ModelSet();
        var data = new Option<string[]>("--data") { Description = "dataset prefix, or weights and prefixes (W1 P1 W2 P2); default: the demo corpus", AllowMultipleArgumentsPerToken = true };
        var iterations = new Option<long>("--iterations") { DefaultValueFactory = _ => defaults.Iterations, Description = "optimizer steps" };
        var seq = new Option<int>("--seq") { DefaultValueFactory = _ => defaults.Sequence, Description = "tokens per sample" };
        var microBatch = new Option<int>("--micro-batch") { DefaultValueFactory = _ => defaults.MicroBatch, Description = "sequences per forward pass" };
        var globalBatch = new Option<int>("--global-batch") { DefaultValueFactory = _ => defaults.GlobalBatch, Description = "sequences per optimizer step (gradient accumulation)" };
        var lr = new Option<double>("--lr") { DefaultValueFactory = _ => defaults.MaxLr, Description = "peak learning rate (WSD schedule)" };
        var minLr = new Option<double>("--min-lr") { DefaultValueFactory = _ => defaults.MinLr, Description = "final learning rate" };
        var checkpoints = new Option<int>("--checkpoints") { DefaultValueFactory = _ => defaults.Checkpoints, Description = "evenly spaced checkpoints (plus the final one)" };
        var logEvery = new Option<int>("--log-every") { DefaultValueFactory = _ => defaults.LogEvery, Description = "steps between logged metrics" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => defaults.Seed, Description = "initialisation and data-order seed" };
        var device = CommonOptions.Device();
        var resume = new Option<bool>("--resume") { Description = "continue from the newest valid checkpoint in --run" };
        var command = new Command("train", "train a model by the FLAME-MoE recipe")
            { run, preset, set, data, iterations, seq, microBatch, globalBatch, lr, minLr, checkpoints, logEvery, seed, device, resume };
        command.SetAction(parse =>
        {
            var runDir = parse.GetValue(run)!;
            var config = new TrainingConfig
            {
                Preset = parse.GetValue(preset)!, ModelOverrides = parse.GetValue(set) ?? [],
                Iterations = parse.GetValue(iterations), Sequence = parse.GetValue(seq), MicroBatch = parse.GetValue(microBatch),
                GlobalBatch = parse.GetValue(globalBatch), MaxLr = parse.GetValue(lr), MinLr = parse.GetValue(minLr),
                Checkpoints = parse.GetValue(checkpoints), LogEvery = parse.GetValue(logEvery), Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!,
            }.Validate();
            config = config with
            {
                Data = parse.GetValue(data) is { Length: > 0 } named ? named : [DemoDataset.EnsurePrepared(Path.Combine(runDir, "data"))],
            };
            return Train(config, runDir, parse.GetValue(resume));
        });
        return command;
    }

    static int Train(TrainingConfig config, string runDir, bool resume)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        long lastStep = 0;
        try
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"training {config.Preset}", maxValue: config.Iterations);
                    new Trainer(config, runDir).Run(resume, log =>
                    {
                        lastStep = log.Step;
                        task.Value = log.Step;
                        task.Description = $"step {log.Step}/{config.Iterations} loss {log.LmLoss:N3} lr {log.Lr:E1} {log.TokensPerSecond:N0} tok/s";
                    }, cancel.Token);
                });
        }
        catch (OperationCanceledException)
        {
            throw new UserError($"interrupted after step {lastStep}; continue with: flame train --run {runDir} --resume");
        }
        finally { Console.CancelKeyPress -= onCancel; }
        AnsiConsole.MarkupLineInterpolated($"done: metrics in [bold]{Path.Combine(runDir, "metrics.jsonl")}[/], checkpoints in [bold]{Path.Combine(runDir, "checkpoints")}[/]");
        return 0;
    }
}
