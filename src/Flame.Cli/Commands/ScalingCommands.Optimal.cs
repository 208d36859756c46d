using System.CommandLine;
using System.Globalization;
using Flame.Model;
using Flame.Scaling;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame scaling optimal`: compute-optimal N, D and loss per budget from a fitted law (spec §3).</summary>
public static partial class ScalingCommands
{
    static Command CreateOptimal()
    {
        var law = LawOption();
        var fit = FitOption();
        var budgets = new Option<string>("--budgets") { Description = "comma-separated FLOP budgets, e.g. 2e19,8e19", Required = true };
        var candidates = new Option<string?>("--candidates")
        {
            Description = "also pick the nearest architecture (log N) from these: comma-separated presets, "
                        + "'released' (the seven flame-moe presets), 'grid' (FLAME-MoE's 16 IsoFLOP architectures)",
        };
        var tokensPerStep = new Option<long>("--tokens-per-step")
            { Description = "tokens per optimizer step, for the matched architecture's iterations", DefaultValueFactory = _ => ScalingPlan.DefaultTokensPerStep };
        var json = CommonOptions.Json();
        var command = new Command("optimal", "compute-optimal N, D = C/(6N) and predicted loss for each budget, from a named or fitted law")
            { law, fit, budgets, candidates, tokensPerStep, json };
        command.SetAction(parse =>
        {
            var (resolved, source) = ResolveLaw(parse.GetValue(law), parse.GetValue(fit));
            var models = parse.GetValue(candidates) is { } list ? ParseCandidates(list) : null;
            long step = parse.GetValue(tokensPerStep);
            var rows = ParseBudgets(parse.GetValue(budgets)!).Select(c =>
            {
                var closed = ComputeOptimal.For(resolved, c);
                var numeric = ComputeOptimal.Numeric(resolved, c);
                var match = models is null ? null : ArchitectureMatch.Nearest(models, closed, resolved, step);
                return (Closed: closed, Numeric: numeric, Match: match);
            }).ToList();
            return JsonOrTable.Print(parse, json, rows.Select(r => OptimalJson(r.Closed, r.Numeric, r.Match)), () => ShowOptimal(resolved, source, rows, step));
        });
        return command;
    }

    static Option<string?> LawOption() => new("--law") { Description = "a published law: " + string.Join(", ", PublishedLaws.Names) };

    static Option<string?> FitOption() => new("--fit")
        { Description = "fit Approach 3 to this results CSV (columns flops, params, loss[, tokens]) and use that law" };

    /// <summary>Exactly one of --law NAME and --fit CSV; the law, and a line saying where it came from.</summary>
    static (ParametricLaw Law, string Source) ResolveLaw(string? name, string? fitCsv)
    {
        if ((name is null) == (fitCsv is null)) throw new UserError("give exactly one of --law NAME and --fit CSV");
        if (name is not null) return (PublishedLaws.Get(name), $"published law {name.ToLowerInvariant()}");
        var runs = ScalingResultsCsv.Read(fitCsv!);
        var fit = ParametricFit.Fit(runs);
        return (fit.Law, $"Approach 3 fitted to {runs.Count} runs of {fitCsv}");
    }

    static IReadOnlyList<ModelConfig> ParseCandidates(string text) => SplitList(text, "--candidates").SelectMany(item =>
        item.ToLowerInvariant() switch
        {
            "grid" => IsoFlopGrid.Architectures,
            "released" => ModelPresets.All.Where(p => p.Name.StartsWith("flame-moe-", StringComparison.Ordinal)).ToList(),
            _ => [ModelPresets.Get(item)],
        }).ToList();

    static Dictionary<string, object?> OptimalJson(ComputeOptimalPoint closed, ComputeOptimalPoint numeric, ArchitectureMatch? match)
    {
        var row = new Dictionary<string, object?>
        {
            ["budget"] = closed.Budget, ["n_opt"] = closed.Params, ["d_opt"] = closed.Tokens, ["loss"] = closed.Loss,
            ["n_opt_numeric"] = numeric.Params,
        };
        if (match is not null)
            row["match"] = new Dictionary<string, object?>
            {
                ["preset"] = match.Preset, ["params"] = match.Params, ["tokens"] = match.Tokens,
                ["iterations"] = match.Iterations, ["loss"] = match.Loss, ["log_distance"] = match.LogDistance,
            };
        return row;
    }

    static void ShowOptimal(ParametricLaw law, string source, IReadOnlyList<(ComputeOptimalPoint Closed, ComputeOptimalPoint Numeric, ArchitectureMatch? Match)> rows, long tokensPerStep)
    {
        static string E(double v) => v.ToString("0.000E+0", CultureInfo.InvariantCulture);
        static string Budget(double c) => c.ToString("0.##E+0", CultureInfo.InvariantCulture);
        AnsiConsole.MarkupLine($"{source}: L = {law.E:G6} + {law.A:G6}/N^{law.Alpha:G6} + {law.B:G6}/D^{law.Beta:G6}".EscapeMarkup());
        var table = new Table().Title("[bold]Compute-optimal allocation[/]").AddColumn("budget C")
            .AddColumn(new TableColumn("N_opt").RightAligned()).AddColumn(new TableColumn("D_opt").RightAligned())
            .AddColumn(new TableColumn("D/N").RightAligned()).AddColumn(new TableColumn("loss").RightAligned());
        foreach (var (closed, _, _) in rows)
            table.AddRow(Budget(closed.Budget), E(closed.Params), E(closed.Tokens), $"{closed.Tokens / closed.Params:F1}", $"{closed.Loss:F4}");
        AnsiConsole.Write(table);
        double worst = rows.Max(r => Math.Abs(r.Numeric.Params / r.Closed.Params - 1));
        AnsiConsole.MarkupLine($"numeric minimisation along C = 6ND agrees with the closed form: N_opt within {worst:0.0E+0} relative");
        if (rows.All(r => r.Match is null)) return;
        var matches = new Table().Title($"[bold]Nearest architecture[/] (log N; iterations at {tokensPerStep:N0} tokens/step)")
            .AddColumn("budget C").AddColumn("architecture").AddColumn(new TableColumn("N").RightAligned())
            .AddColumn(new TableColumn("N / N_opt").RightAligned()).AddColumn(new TableColumn("iterations").RightAligned())
            .AddColumn(new TableColumn("loss").RightAligned());
        foreach (var (closed, _, match) in rows)
            matches.AddRow(Budget(closed.Budget), match!.Preset.EscapeMarkup(), $"{match.Params:N0}", $"{match.Params / closed.Params:F2}",
                           $"{match.Iterations:N0}", $"{match.Loss:F4}");
        AnsiConsole.Write(matches);
    }
}
