using System.CommandLine;
using System.Globalization;
using Flame.Evaluation.Tasks;
using Flame.Evaluation;
using Flame.Runtime;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>
/// `flame eval`: downstream tasks scored like lm-evaluation-harness (spec §4), `eval compare` for two runs side
/// by side, `eval perplexity` on a held-out token file, `eval bench` for scoring throughput.
/// </summary>
public static class EvalCommands
{
    public static Command Create()
    {
        var checkpoint = Checkpoint();
        var run = Run();
        var tasks = new Option<string>("--tasks") { Description = $"comma-separated tasks (default: all of {string.Join(",", HarnessTasks.Names)})" };
        var dataDir = new Option<string?>("--data-dir") { Description = "folder with one subfolder per task (see README: Evaluation)" };
        var limit = new Option<int?>("--limit") { Description = "score only the first N documents of each task" };
        var shots = new Option<string?>("--shots") { Description = "few-shot examples: K for every task, or task=K,... (default: FLAME-MoE's 10 for ARC-E, ARC-C, PIQA, HellaSwag; 0 for OBQA, WinoGrande)" };
        var seed = new Option<long>("--fewshot-seed") { Description = "seed of the few-shot draws: 1234 is the harness's default; FLAME-MoE's evaluate.sh used 42 (--seed 42)", DefaultValueFactory = _ => 1234 };
        var logSamples = new Option<bool>("--log-samples") { Description = "also write every document's requests and scores to samples_<task>.jsonl (the harness's --log_samples)" };
        var batch = BatchSize();
        var perplexityData = new Option<string[]>("--perplexity-data") { Description = "also measure validation perplexity (50 batches) on this dataset prefix (or W1 P1 W2 P2); with --run, default: the run's own data", AllowMultipleArgumentsPerToken = true };
        var allCheckpoints = new Option<bool>("--all-checkpoints") { Description = "with --run: evaluate every checkpoint into eval/iter_NNNNNNN (the newest also into eval/)" };
        var output = OutputOption();
        var overwrite = OverwriteOption();
        var device = CommonOptions.Device();
        var dtype = CommonOptions.Dtype();
        var json = CommonOptions.Json();
        var command = new Command("eval", "score a checkpoint on ARC-Easy, ARC-Challenge, OpenBookQA, HellaSwag, PIQA and WinoGrande like lm-evaluation-harness")
            { checkpoint, run, tasks, dataDir, limit, shots, seed, logSamples, batch, perplexityData, allCheckpoints, output, overwrite, device, dtype, json };
        command.SetAction(parse =>
        {
            var target = Target(parse, checkpoint, run);
            var options = new EvalOptions
            {
                Tasks = parse.GetValue(tasks) is { } t ? t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [],
                DataDir = parse.GetValue(dataDir), Limit = parse.GetValue(limit), Shots = ParseShots(parse.GetValue(shots)),
                FewShotSeed = parse.GetValue(seed), LogSamples = parse.GetValue(logSamples), BatchSize = parse.GetValue(batch), Device = parse.GetValue(device)!,
                ComputeType = ComputeTarget.ParseDtype(parse.GetValue(dtype)),
                PerplexityData = parse.GetValue(perplexityData) is { Length: > 0 } p ? p : null, OutputDir = output.Get(parse),
            };
            bool all = parse.GetValue(allCheckpoints);
            if (all && target.IsCheckpoint) throw new UserError("--all-checkpoints needs --run");
            if (all)
                foreach (var (folder, reason) in Flame.Checkpointing.CheckpointDiagnosis.Invalid(target.Path)) Console.Error.WriteLine($"warning: skipped checkpoint {folder}: {reason}");
            var summaries = IntoOutput(options.OutputDir, "flame eval", output.Spelling(parse), parse.GetValue(overwrite), () => WithProgress(!parse.GetValue(json), progress => target.IsCheckpoint
                ? [Evaluator.EvaluateCheckpoint(target.Path, options, progress)]
                : Evaluator.EvaluateRun(target.Path, options, all, progress)));
            return JsonOrTable.Print(parse, json, all ? (object)summaries : summaries[^1], () => { foreach (var summary in summaries) WriteSummary(summary); });
        });
        command.Subcommands.Add(Compare());
        command.Subcommands.Add(Perplexity());
        command.Subcommands.Add(Bench());
        return command;
    }

    static Option<string?> Checkpoint() => new("--checkpoint") { Description = "a checkpoint folder (RUN/checkpoints/iter_NNNNNNN)" };
    static Option<string?> Run() => new("--run") { Description = "a run folder (its newest checkpoint)" };
    static Option<int> BatchSize() => new("--batch-size") { Description = "sequences per forward pass", DefaultValueFactory = _ => 16 };

    sealed record EvalTarget(string Path, bool IsCheckpoint);

    static EvalTarget Target(ParseResult parse, Option<string?> checkpoint, Option<string?> run) => (parse.GetValue(checkpoint), parse.GetValue(run)) switch
    {
        ({ } c, null) => new(c, true),
        (null, { } r) => new(r, false),
        (null, null) => throw new UserError("say what to evaluate: --checkpoint PATH or --run DIR"),
        _ => throw new UserError("give either --checkpoint or --run, not both"),
    };

    /// <summary>"10" for every task, or "arc_easy=5,piqa=0".</summary>
    public static IReadOnlyDictionary<string, int> ParseShots(string? text)
    {
        var shots = new Dictionary<string, int>();
        if (string.IsNullOrWhiteSpace(text)) return shots;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split('=', 2, StringSplitOptions.TrimEntries);
            var (task, value) = pieces.Length == 2 ? (pieces[0].ToLowerInvariant(), pieces[1]) : ("*", pieces[0]);
            if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) || k < 0)
                throw new UserError($"--shots: \"{part}\" is not K or task=K with K a whole number >= 0");
            if (task != "*") HarnessTasks.Get(task);
            shots[task] = k;
        }
        return shots;
    }

    /// <summary>Runs with live progress bars (none with --json, so stdout stays one JSON document).</summary>
    internal static T WithProgress<T>(bool show, Func<IProgress<EvalProgress>, T> work)
    {
        try
        {
            if (!show) return work(new ActionProgress<EvalProgress>(_ => { }));
            return ComputeDisplay.Progress([new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()],
                ctx =>
                {
                    var bars = new Dictionary<string, ProgressTask>();
                    var refresh = ComputeDisplay.Throttled(ctx);
                    return work(new ActionProgress<EvalProgress>(p =>
                    {
                        if (!bars.TryGetValue(p.Stage, out var bar)) bars[p.Stage] = bar = ctx.AddTask(p.Stage, maxValue: Math.Max(1, p.Total));
                        bar.MaxValue = Math.Max(1, p.Total);
                        bar.Value = p.Done;
                        bar.Description = $"{p.Stage} {p.Done:N0}/{p.Total:N0}";
                        refresh();
                    }));
                });
        }
        catch (OperationCanceledException) { throw new UserError("interrupted; results of finished tasks are in the eval folder"); }
    }

    static string Num(double? value, string format = "0.0000") => value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    internal static void WriteSummary(EvalSummary summary)
    {
        if (summary.Tasks.Count > 0)
        {
            var table = new Table().Title($"[bold]checkpoint step {summary.CheckpointStep}[/]").AddColumn("task")
                .AddColumn(new TableColumn("shots").RightAligned()).AddColumn(new TableColumn("n").RightAligned())
                .AddColumn(new TableColumn("acc").RightAligned()).AddColumn(new TableColumn("± stderr").RightAligned())
                .AddColumn(new TableColumn("acc_norm").RightAligned()).AddColumn(new TableColumn("± stderr").RightAligned());
            foreach (var t in summary.Tasks)
            {
                bool normDefined = HarnessTasks.All.FirstOrDefault(d => d.Name == t.Task)?.HasAccNorm ?? true;
                table.AddRow(t.Task, $"{t.NumFewshot}", $"{t.N:N0}", Num(t.Acc), Num(t.AccStderr),
                    Num(t.AccNorm) + (normDefined ? "" : " *"), Num(t.AccNormStderr));
            }
            table.AddRow("[bold]average[/]", "", "", $"[bold]{Num(summary.AverageAcc)}[/]", "", $"[bold]{Num(summary.AverageAccNorm)}[/]", "");
            AnsiConsole.Write(table);
            if (summary.Tasks.Any(t => HarnessTasks.All.FirstOrDefault(d => d.Name == t.Task) is { HasAccNorm: false }))
                AnsiConsole.MarkupLine("* the harness reports only acc for this task; its acc stands in for acc_norm in the average");
        }
        if (summary.Perplexity is { } p) WritePerplexity(p);
    }

    static void WritePerplexity(PerplexityResult p) =>
        AnsiConsole.MarkupLineInterpolated($"perplexity [bold]{Num(p.Perplexity, "0.000")}[/] (loss {Num(p.Loss)}) on {p.Tokens:N0} tokens of the {p.Split} split of {p.Data}, seq {p.Sequence}, checkpoint step {p.CheckpointStep}");

    static Command Compare()
    {
        var a = new Argument<string>("run-a") { Description = "a run folder (RUN/eval/summary.json) or a summary.json" };
        var b = new Argument<string>("run-b") { Description = "the run to compare against" };
        var json = CommonOptions.Json();
        var command = new Command("compare", "two runs' evaluations side by side, per task and on average (e.g. MoE vs dense at equal FLOPs)") { a, b, json };
        command.SetAction(parse =>
        {
            var comparison = EvalComparison.Of(parse.GetValue(a)!, parse.GetValue(b)!);
            return JsonOrTable.Print(parse, json, comparison, () => ShowComparison(comparison));
        });
        return command;
    }

    static void ShowComparison(EvalComparison comparison)
    {
        var (nameA, nameB) = (Path.GetFileName(Path.TrimEndingDirectorySeparator(comparison.RunA)), Path.GetFileName(Path.TrimEndingDirectorySeparator(comparison.RunB)));
        var table = new Table().Title($"[bold]{Markup.Escape(nameA)}[/] (step {comparison.StepA}) vs [bold]{Markup.Escape(nameB)}[/] (step {comparison.StepB})")
            .AddColumn("task").AddColumn(new TableColumn("shots").RightAligned())
            .AddColumn(new TableColumn($"acc {Markup.Escape(nameA)}").RightAligned()).AddColumn(new TableColumn($"acc {Markup.Escape(nameB)}").RightAligned())
            .AddColumn(new TableColumn("Δ").RightAligned())
            .AddColumn(new TableColumn($"acc_norm {Markup.Escape(nameA)}").RightAligned()).AddColumn(new TableColumn($"acc_norm {Markup.Escape(nameB)}").RightAligned())
            .AddColumn(new TableColumn("Δ").RightAligned());
        string Shots(ComparisonRow r) => r.ShotsA == r.ShotsB ? $"{r.ShotsA}" : $"{r.ShotsA?.ToString() ?? "-"}/{r.ShotsB?.ToString() ?? "-"}";
        string Delta(double? d) => d is { } v ? (v >= 0 ? "+" : "") + Num(v) : "-";
        foreach (var r in comparison.Rows)
            table.AddRow(r.Task, Shots(r), Num(r.AccA), Num(r.AccB), Delta(r.AccDelta), Num(r.AccNormA), Num(r.AccNormB), Delta(r.AccNormDelta));
        var avg = comparison.Average;
        table.AddRow("[bold]average[/]", "", Num(avg.AccA), Num(avg.AccB), Delta(avg.AccDelta), Num(avg.AccNormA), Num(avg.AccNormB), Delta(avg.AccNormDelta));
        AnsiConsole.Write(table);
    }

    static Command Perplexity()
    {
        var checkpoint = Checkpoint();
        var run = Run();
        var data = new Option<string[]>("--data") { Description = "dataset prefix (or W1 P1 W2 P2); default with --run: the run's training data", AllowMultipleArgumentsPerToken = true };
        var seq = new Option<int?>("--seq") { Description = "tokens per sample (default: the run's training length, else the model's max positions)" };
        var batches = new Option<int>("--batches") { Description = "batches to score (0: the whole split)", DefaultValueFactory = _ => 50 };
        var split = new Option<string>("--split") { Description = "valid (default) or test", DefaultValueFactory = _ => "valid" };
        var batch = BatchSize();
        batch.DefaultValueFactory = _ => 8;
        var output = OutputOption();
        var overwrite = OverwriteOption();
        var device = CommonOptions.Device();
        var dtype = CommonOptions.Dtype();
        var json = CommonOptions.Json();
        var command = new Command("perplexity", "validation perplexity of a checkpoint on a held-out token file (Megatron indexed dataset)")
            { checkpoint, run, data, seq, batches, split, batch, output, overwrite, device, dtype, json };
        command.SetAction(parse =>
        {
            var target = Target(parse, checkpoint, run);
            var runFolder = target.IsCheckpoint ? Evaluator.RunFolderOf(target.Path) : target.Path;
            var options = new EvalOptions
            {
                PerplexityData = (parse.GetValue(data) is { Length: > 0 } named ? named : RunSettings.Read(runFolder).Data)
                    ?? throw new UserError("name the token file with --data PREFIX (no run config.json names one)"),
                PerplexitySequence = parse.GetValue(seq), PerplexityBatches = parse.GetValue(batches),
                PerplexitySplit = parse.GetValue(split)!.ToLowerInvariant() switch
                {
                    "valid" or "validation" => Flame.Data.Samples.SplitName.Valid,
                    "test" => Flame.Data.Samples.SplitName.Test,
                    var s => throw new UserError($"unknown split '{s}'; valid choices: valid, test"),
                },
                BatchSize = parse.GetValue(batch), Device = parse.GetValue(device)!, ComputeType = ComputeTarget.ParseDtype(parse.GetValue(dtype)),
                OutputDir = output.Get(parse),
            };
            var summary = IntoOutput(options.OutputDir, "flame eval perplexity", output.Spelling(parse), parse.GetValue(overwrite), () => WithProgress(!parse.GetValue(json), progress => target.IsCheckpoint
                ? Evaluator.EvaluateCheckpoint(target.Path, options, progress)
                : Evaluator.EvaluateRun(target.Path, options, false, progress)[0]));
            return JsonOrTable.Print(parse, json, summary.Perplexity, () => WritePerplexity(summary.Perplexity!));
        });
        return command;
    }

    static OutOption OutputOption() => new("results folder (default: RUN/eval)");

    static Option<bool> OverwriteOption() => CommonOptions.Overwrite("use an --out folder Flame did not write, removing only the result files eval writes");

    /// <summary>A named --out is claimed (new, empty or an earlier eval's) for the work; the default RUN/eval is the run's own.</summary>
    static T IntoOutput<T>(string? output, string command, string option, bool overwrite, Func<T> work) => output is null ? work()
        : Flame.Output.OutputFolder.ClaimFor(output, Flame.Output.OutputKind.Eval, command, option, overwrite, Console.Error.WriteLine, work);

    static Command Bench()
    {
        var checkpoint = Checkpoint();
        var run = Run();
        var preset = CommonOptions.Preset(required: false);
        preset.DefaultValueFactory = _ => "demo";
        var set = CommonOptions.ModelSet();
        var choices = new Option<int>("--choices") { Description = "requests to score", DefaultValueFactory = _ => 256 };
        var context = new Option<int>("--context") { Description = "context tokens per request", DefaultValueFactory = _ => 200 };
        var continuation = new Option<int>("--continuation") { Description = "continuation tokens per request", DefaultValueFactory = _ => 16 };
        var batch = BatchSize();
        var device = CommonOptions.Device();
        var dtype = CommonOptions.Dtype();
        var json = CommonOptions.Json();
        var command = new Command("bench", "choices scored per second on synthetic requests (a fresh --preset model, or a checkpoint)")
            { checkpoint, run, preset, set, choices, context, continuation, batch, device, dtype, json };
        command.SetAction(parse =>
        {
            var target = CommonOptions.Target(parse, device, dtype);
            (string, ScoringThroughput) Measure() => ScoringBenchmark.Measure(
                parse.GetValue(checkpoint) ?? parse.GetValue(run), CommonOptions.ResolveModel(parse, preset, set), target.Device,
                target.ComputeType, parse.GetValue(choices), parse.GetValue(context), parse.GetValue(continuation), parse.GetValue(batch));
            var (name, result) = parse.GetValue(json) ? Measure() : ComputeDisplay.Status($"scoring {parse.GetValue(choices)} choices...", _ => Measure());
            return JsonOrTable.Print(parse, json, result, () => AnsiConsole.MarkupLine($"[bold]{Markup.Escape(name)}[/] on {target.Device.type}: [bold]{result.ChoicesPerSecond:N1} choices/s[/] " +
                                        $"({result.TokensPerSecond:N0} tokens/s; {result.Choices} choices of {result.ContextTokens}+{result.ContinuationTokens} tokens, " +
                                        $"batch {result.BatchSize}, {result.Truncated} truncated, {result.Seconds:N2} s)"));
        });
        return command;
    }
}
