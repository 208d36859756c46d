using System.CommandLine;
using Flame.Checkpointing;
using Flame.Distributed;
using Flame.Experiments;
using Flame.Training;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>
/// `flame run [CONFIG]`: the whole experiment (train, then the stages after it) into one run folder;
/// `flame train [CONFIG]`: the training stage alone. With no CONFIG both run the embedded demo.
/// </summary>
public static class RunCommands
{
    public static Argument<string?> ConfigArgument() => new("config")
    {
        Description = "experiment TOML file (flame config keys lists the keys); none = the demo experiment",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public static Option<string[]> SetOption() => new("--set")
    {
        Description = "override a config key, section.key=value (repeatable), e.g. --set training.iterations=50 --set model.experts=16",
    };

    public static Command Create() => Build("run", "train and study a model end to end (the demo when no config is given)", trainOnly: false);

    public static Command CreateTrain() => Build("train", "only the training stage of an experiment", trainOnly: true);

    static Command Build(string name, string description, bool trainOnly)
    {
        var file = ConfigArgument();
        var set = SetOption();
        var output = new OutOption("run folder (default: runs/<config name>, or runs/demo)", "RUN");
        var resume = new Option<bool>("--resume") { Description = "continue from the newest valid checkpoint in the run folder" };
        var overwrite = CommonOptions.Overwrite("start again in a run folder that holds a run (or a folder Flame did not write), removing only what this command writes there");
        var command = new Command(name, description) { file, set, output, resume, overwrite };
        command.SetAction(parse =>
        {
            var path = parse.GetValue(file);
            var overrides = parse.GetValue(set) ?? [];
            var runDir = output.Get(parse) ?? Path.Combine("runs", path is null ? "demo" : Path.GetFileNameWithoutExtension(path));
            bool resuming = parse.GetValue(resume);
            if (resuming && parse.GetValue(overwrite))
                throw new UserError("--resume continues a run and --overwrite starts it again: give one of them");
            // --resume continues the experiment saved in the run folder; what it may change is checked before anything is written.
            var config = resuming ? ResumePolicy.Resolve(runDir, path, overrides) : ExperimentConfigFile.Load(path, overrides);
            var runner = new ExperimentRunner(config, runDir);
            // Rank 0 claims and locks the folder (the only rank that writes it), before anything is written.
            using var claimed = ProcessWorld.IsMain ? Flame.Output.RunFolder.Claim(runDir, $"flame {name}", resuming, parse.GetValue(overwrite),
                demoData: config.Training.Data.Count == 0, say: Console.WriteLine) : null;
            if (ProcessWorld.Launch.Size > 1 && !ProcessWorld.IsMain)
            {
                // The other ranks of a launched job train silently; rank 0 shows progress and runs the stages after training.
                runner.PrepareData();
                runner.Train(resuming);
                return 0;
            }
            if (ProcessWorld.Launch.Size > 1) AnsiConsole.WriteLine(runner.Config.Training.Parallel.Layout.Describe());
            ComputeDisplay.Status("preparing data...", _ => runner.PrepareData());
            Train(runner, resuming, ResumeHint.Command(name, runDir, overrides));
            if (!trainOnly) RunStagesAfterTraining(runner);
            AnsiConsole.MarkupLineInterpolated($"run folder: [bold]{runDir}[/] (config.toml, metrics.jsonl, tensorboard/, checkpoints/{(trainOnly ? "" : ", eval/, traces/, analysis/, report/")})");
            return 0;
        });
        return command;
    }

    /// <summary>Evaluation, then (when tracing is on) traces, analyses and the report, each with its own progress.</summary>
    static void RunStagesAfterTraining(ExperimentRunner runner)
    {
        var summary = EvalCommands.WithProgress(true, progress => runner.Evaluate(progress));
        if (summary is not null) EvalCommands.WriteSummary(summary);
        if (runner.Traces)
        {
            ComputeDisplay.Status("tracing routing...", report => runner.Trace(message => report($"tracing: {Markup.Escape(message)}")));
            var analysis = ComputeDisplay.Status("analysing traces...", report => runner.Analyse(message => report($"analysing: {Markup.Escape(message)}")));
            foreach (var problem in analysis.Problems) AnsiConsole.MarkupLineInterpolated($"[yellow]trace problem:[/] {problem}");
        }
        var report = ComputeDisplay.Status("writing the report...", _ => runner.Report());
        AnsiConsole.MarkupLineInterpolated($"report: [bold]{Path.GetFullPath(report)}[/]");
    }

    static void Train(ExperimentRunner runner, bool resume, string resumeCommand)
    {
        var training = runner.Config.Training;
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        long lastStep = 0;
        TrainingLog? last = null;
        try
        {
            ComputeDisplay.Progress([new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn()],
                ctx =>
                {
                    var task = ctx.AddTask($"training {training.Preset}", maxValue: training.Iterations);
                    ctx.Refresh();
                    return runner.Train(resume, log =>
                    {
                        lastStep = log.Step;
                        last = log;
                        task.Value = log.Step;
                        task.Description = $"step {log.Step}/{training.Iterations} loss {log.LmLoss:N3} lr {log.Lr:E1} " +
                            $"{log.TokensPerSecond:N0} tok/s {log.ModelTflops:N2} TFLOP/s" + (log.Mfu is double mfu ? $" MFU {mfu:P1}" : "");
                        ctx.Refresh();
                    }, cancel.Token, say: message => AnsiConsole.WriteLine(message));
                });
        }
        catch (OperationCanceledException)
        {
            throw new UserError(new CheckpointStore(runner.RunDirectory).Latest() is null
                ? $"interrupted after step {lastStep}, before the first checkpoint: nothing to resume; start again with the same command"
                : $"interrupted after step {lastStep}; continue with: {resumeCommand}");
        }
        finally { Console.CancelKeyPress -= onCancel; }
        if (last is { ExpertLoad.Count: > 0 })
        {
            int experts = training.ResolveModel().Experts;
            var layers = string.Join("  ", last.ExpertLoad.Select(l => $"L{l.Layer} {l.MaxOverMean:N2} / {l.Entropy:N2}"));
            AnsiConsole.WriteLine($"expert load at step {last.Step}, busiest/mean and entropy (balanced: 1 / {Math.Log(experts):N2}): {layers}");
        }
    }
}
