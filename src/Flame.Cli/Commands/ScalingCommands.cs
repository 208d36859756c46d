using System.CommandLine;
using System.Globalization;
using Flame.Model;
using Flame.Scaling;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>
/// `flame scaling plan`, `fit`, `optimal` and `downstream`: FLAME-MoE's IsoFLOP study (spec §3).
/// One command group, split over partial files (ScalingCommands.*.cs) by subcommand.
/// </summary>
public static partial class ScalingCommands
{
    public static Command Create() => new("scaling", "plan IsoFLOP runs, fit scaling laws to their losses, and use the fitted laws")
        { CreatePlan(), CreateSweepRun(), CreateFit(), CreateOptimal(), CreateDownstream() };

    static Command CreatePlan()
    {
        var presets = new Option<string?>("--presets") { Description = "comma-separated presets, e.g. flame-moe-38m,flame-moe-290m" };
        var budgets = new Option<string?>("--budgets") { Description = "comma-separated FLOP budgets (default: the study's 1e18,3e18,6e18,1e19,3e19)" };
        var tokensPerStep = new Option<long>("--tokens-per-step")
            { Description = "tokens per optimizer step", DefaultValueFactory = _ => ScalingPlan.DefaultTokensPerStep };
        var grid = new Option<string?>("--grid") { Description = "architecture grid: flame (FLAME-MoE's 16); the default when no --presets" };
        var json = CommonOptions.Json();
        var output = new OutOption("sweep folder: write one experiment config per run into OUT/runs/ (for flame scaling run)", "SWEEP");
        var baseConfig = RunCommands.ConfigArgument();
        baseConfig.Description = "with --out: the experiment every run starts from (data, batch, schedule); its global batch x seq is the tokens per step";
        var set = RunCommands.SetOption();
        var speed = new Option<double?>("--tokens-per-second") { Description = "measured training speed, to estimate each run's time" };
        var overwrite = CommonOptions.Overwrite("use an --out folder Flame did not write, removing only what a sweep writes there (runs/, results.csv)");
        var command = new Command("plan", "parameters, tokens D = C/(6N) and iterations for each model at each budget")
            { presets, budgets, tokensPerStep, grid, json, output, baseConfig, set, speed, overwrite };
        command.SetAction(parse =>
        {
            var models = new List<ModelConfig>();
            var gridName = parse.GetValue(grid);
            var presetList = parse.GetValue(presets);
            if (gridName is not null && !string.Equals(gridName, "flame", StringComparison.OrdinalIgnoreCase))
                throw new UserError($"unknown grid '{gridName}'; valid grids: flame");
            if (presetList is not null) models.AddRange(SplitList(presetList, "--presets").Select(ModelPresets.Get));
            if (gridName is not null || presetList is null) models.AddRange(IsoFlopGrid.Architectures);
            var budgetList = parse.GetValue(budgets) is { } b ? ParseBudgets(b) : IsoFlopGrid.Budgets;
            long perStep = parse.GetValue(tokensPerStep);
            if (output.Get(parse) is { } sweep)
            {
                var start = Flame.Experiments.ExperimentConfigFile.Load(parse.GetValue(baseConfig), parse.GetValue(set) ?? []);
                perStep = (long)start.Training.GlobalBatch * start.Training.Sequence;
                var files = ScalingSweep.WritePlan(sweep, start, models, budgetList, parse.GetValue(overwrite), Console.Error.WriteLine);
                Console.Error.WriteLine($"wrote {files.Count} run configs to {Path.Combine(sweep, "runs")} ({perStep:N0} tokens per step); train them with: flame scaling run {sweep}");
            }
            var runs = ScalingPlan.Build(models, budgetList, perStep);
            return JsonOrTable.Print(parse, json, runs, () => ShowPlan(runs, perStep, parse.GetValue(speed)));
        });
        return command;
    }

    static Command CreateSweepRun()
    {
        var sweep = new Argument<string>("sweep") { Description = "sweep folder written by flame scaling plan --out" };
        var command = new Command("run", "train a planned sweep's runs one after another (finished runs skipped, interrupted ones resumed) into results.csv") { sweep };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(sweep)!;
            var results = ScalingSweep.Run(folder,
                (name, config) => AnsiConsole.MarkupLineInterpolated($"[bold]{name}[/]: {config.Training.Iterations:N0} iterations"),
                log => { if (log.Step % 50 == 0) AnsiConsole.WriteLine($"  step {log.Step} loss {log.LmLoss:N3}"); });
            foreach (var r in results)
                AnsiConsole.MarkupLineInterpolated($"{r.Name}: loss {r.Loss:N4} ({(r.TestLoss is null ? "last validation" : "final test evaluation, as the original fitted")}; {r.Outcome})");
            AnsiConsole.MarkupLineInterpolated($"results: [bold]{Path.Combine(folder, ScalingSweep.ResultsFile)}[/]; fit with: flame scaling fit --input {Path.Combine(folder, ScalingSweep.ResultsFile)} --plots");
            return 0;
        });
        return command;
    }

    static Command CreateFit()
    {
        var input = new Option<string>("--input") { Description = "CSV with columns flops, params, loss and optionally tokens", Required = true };
        var bootstrap = new Option<int>("--bootstrap") { Description = "bootstrap replicates for 95% intervals (0: none)", DefaultValueFactory = _ => 0 };
        var seed = new Option<int>("--seed") { Description = "seed of the bootstrap resampling", DefaultValueFactory = _ => 1234 };
        var plots = new Option<string?>("--plots")
        {
            Description = "write the figures (PNG and SVG) to this folder; given without a folder, beside the CSV",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var tolerance = new Option<double>("--budget-tolerance")
        {
            Description = "runs whose FLOPs are within this fraction of each other share an IsoFLOP budget (Approach 2)",
            DefaultValueFactory = _ => IsoFlopFit.DefaultBudgetTolerance,
        };
        var json = CommonOptions.Json();
        var command = new Command("fit", "fit Approach 2 (IsoFLOP profiles) and Approach 3 (parametric loss) to finished runs")
            { input, tolerance, bootstrap, seed, plots, json };
        command.SetAction(parse =>
        {
            var fit = ScalingFitWorkflow.Run(new ScalingFitOptions(parse.GetValue(input)!)
            {
                BudgetTolerance = parse.GetValue(tolerance), Bootstrap = parse.GetValue(bootstrap), Seed = parse.GetValue(seed),
                Plots = parse.GetResult(plots) is not null, PlotsFolder = parse.GetValue(plots),
            });
            foreach (var file in fit.Plots) Console.Error.WriteLine($"wrote {file}");
            return JsonOrTable.Print(parse, json, FitJson(fit), () => ShowFit(fit));
        });
        return command;
    }

    static string[] SplitList(string text, string option)
    {
        var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0) throw new UserError($"{option} is empty");
        return items;
    }

    static double[] ParseBudgets(string text) => SplitList(text, "--budgets").Select(s =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
            ? v : throw new UserError($"--budgets: '{s}' is not a positive number of FLOPs")).ToArray();

    static void ShowPlan(IReadOnlyList<PlannedRun> runs, long tokensPerStep, double? tokensPerSecond)
    {
        var table = new Table().Title($"[bold]IsoFLOP plan[/] ({tokensPerStep:N0} tokens per step)")
            .AddColumn("model").AddColumn(new TableColumn("budget").RightAligned()).AddColumn(new TableColumn("N").RightAligned())
            .AddColumn(new TableColumn("tokens D").RightAligned()).AddColumn(new TableColumn("iterations").RightAligned());
        if (tokensPerSecond is > 0) table.AddColumn(new TableColumn($"hours at {tokensPerSecond:N0} tok/s").RightAligned());
        foreach (var r in runs)
        {
            var cells = new List<string> { r.Preset, r.Budget.ToString("0.0E+0", CultureInfo.InvariantCulture), $"{r.Params:N0}",
                r.Tokens.ToString("0.000E+0", CultureInfo.InvariantCulture), $"{r.Iterations:N0}" };
            if (tokensPerSecond is double speed and > 0) cells.Add($"{(double)r.Iterations * tokensPerStep / speed / 3600:N1}");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
    }

    static Dictionary<string, object?> LawJson(ParametricLaw l) => new()
    {
        ["E"] = l.E, ["A"] = l.A, ["alpha"] = l.Alpha, ["B"] = l.B, ["beta"] = l.Beta,
        ["a"] = l.ParamsExponent, ["b"] = l.TokensExponent,
    };

    static Dictionary<string, object?> FitJson(ScalingFitResult fit)
    {
        var (count, a2, a3, a3Error, boot) = (fit.Runs.Count, fit.Approach2, fit.Approach3, fit.Approach3Error, fit.Bootstrap);
        if (a3 is null) return new() { ["runs"] = count, ["approach2"] = a2, ["approach3"] = null, ["approach3_error"] = a3Error, ["bootstrap"] = null };
        var approach3 = LawJson(a3.Law);
        approach3["objective"] = a3.Objective;
        approach3["starts"] = a3.Starts;
        approach3["converged"] = a3.Converged;
        approach3["converged_near_best"] = a3.ConvergedNearBest;
        return new()
        {
            ["runs"] = count,
            ["approach2"] = a2,
            ["approach3"] = approach3,
            ["bootstrap"] = boot is null ? null : new Dictionary<string, object?>
            {
                ["samples"] = boot.Samples, ["seed"] = boot.Seed, ["failed"] = boot.Failed,
                ["E"] = boot.E, ["A"] = boot.A, ["alpha"] = boot.Alpha, ["B"] = boot.B, ["beta"] = boot.Beta,
                ["a"] = boot.ParamsExponent, ["b"] = boot.TokensExponent,
            },
        };
    }

    static string Flops(double c) => c.ToString("0.00E+0", CultureInfo.InvariantCulture);

    static void ShowFit(ScalingFitResult fit)
    {
        var (a2, a3, a3Error, boot) = (fit.Approach2, fit.Approach3, fit.Approach3Error, fit.Bootstrap);
        if (a2.Fitted)
        {
            var profiles = new Table().Title($"[bold]Approach 2[/]: IsoFLOP profiles (budgets grouped within {a2.BudgetTolerance.ToString("0.###%", CultureInfo.InvariantCulture)} of their FLOPs)")
                .AddColumn("budget").AddColumn("runs").AddColumn("quadratic N_opt").AddColumn("best run N").AddColumn("best loss");
            foreach (var p in a2.Profiles)
                profiles.AddRow(Flops(p.Budget), $"{p.Runs}",
                                p.QuadraticOptimalParams is { } n ? n.ToString("0.000E+0", CultureInfo.InvariantCulture) : "-",
                                p.BestRunParams.ToString("0.000E+0", CultureInfo.InvariantCulture), $"{p.BestRunLoss:F4}");
            AnsiConsole.Write(profiles);
        }
        else AnsiConsole.MarkupLineInterpolated($"[yellow]Approach 2 not fitted:[/] {ScalingFitWorkflow.Approach2Missing(a2)}");
        if (a2.LeftOut.Count > 0)
        {
            var list = string.Join(", ", a2.LeftOut.Take(8).Select(b => $"C = {Flops(b.Budget)} ({b.Runs} runs, {b.Sizes} sizes)")) + (a2.LeftOut.Count > 8 ? ", ..." : "");
            AnsiConsole.MarkupLineInterpolated($"left out of Approach 2 ({a2.LeftOut.Count} budgets with fewer than {IsoFlopFit.MinimumSizes} model sizes): {list}");
        }
        if (a2.Fitted && a2.BestRun is null)
            AnsiConsole.MarkupLine("no power law N_opt(C): it needs at least two budgets with profiles");
        if (a2.Quadratic is { } q) AnsiConsole.MarkupLine($"N_opt = {q.K.ToString("0.000E+0", CultureInfo.InvariantCulture)} * C^{q.Exponent:F4} (quadratic minima, {q.Points} budgets)");
        if (a2.BestRun is { } br) AnsiConsole.MarkupLine($"N_opt = {br.K.ToString("0.000E+0", CultureInfo.InvariantCulture)} * C^{br.Exponent:F4} (best runs, {br.Points} budgets)");

        if (a3 is null)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]Approach 3 not fitted:[/] {a3Error}");
            return;
        }
        var l = a3.Law;
        var table = new Table().Title("[bold]Approach 3[/]: L(N, D) = E + A/N^alpha + B/D^beta").AddColumn("coefficient")
            .AddColumn(new TableColumn("value").RightAligned());
        if (boot is not null) table.AddColumn(new TableColumn($"95% interval ({boot.Samples} bootstrap)").RightAligned());
        void Row(string name, double v, Interval? i)
        {
            if (boot is null) table.AddRow(name, v.ToString("G6", CultureInfo.InvariantCulture));
            else table.AddRow(name, v.ToString("G6", CultureInfo.InvariantCulture),
                              $"[{i!.Low.ToString("G4", CultureInfo.InvariantCulture)}, {i.High.ToString("G4", CultureInfo.InvariantCulture)}]".EscapeMarkup());
        }
        Row("E", l.E, boot?.E); Row("A", l.A, boot?.A); Row("alpha", l.Alpha, boot?.Alpha);
        Row("B", l.B, boot?.B); Row("beta", l.Beta, boot?.Beta);
        Row("a = beta/(alpha+beta)", l.ParamsExponent, boot?.ParamsExponent);
        Row("b = alpha/(alpha+beta)", l.TokensExponent, boot?.TokensExponent);
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"objective {a3.Objective.ToString("0.000E+0", CultureInfo.InvariantCulture)}; {a3.Converged} of {a3.Starts} starts converged, {a3.ConvergedNearBest} to the best");
        if (boot is { Failed: > 0 })
            AnsiConsole.MarkupLine($"{boot.Failed} of {boot.Samples} bootstrap replicates could not be fitted (too few distinct points, or no start converged) and are left out of the intervals");
    }
}
