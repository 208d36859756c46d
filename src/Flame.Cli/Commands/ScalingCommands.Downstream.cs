using System.CommandLine;
using System.Globalization;
using Flame.Scaling;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame scaling downstream`: task accuracy as a sigmoid of validation loss, and its prediction for planned runs.</summary>
public static partial class ScalingCommands
{
    static Command CreateDownstream()
    {
        var input = new Option<string>("--input") { Description = "CSV with columns loss, accuracy and optionally task (one fit per task)", Required = true };
        var floor = new Option<double?>("--floor") { Description = "fix the accuracy at high loss (e.g. chance: 0.25 for 4 choices) instead of fitting it" };
        var predictLoss = new Option<string?>("--predict-loss") { Description = "comma-separated validation losses to predict accuracy at" };
        var budgets = new Option<string?>("--budgets") { Description = "predict at the compute-optimal loss of these budgets (needs --law or --fit)" };
        var law = LawOption();
        var fit = FitOption();
        var json = CommonOptions.Json();
        var command = new Command("downstream",
            "fit accuracy = floor + (ceiling - floor) / (1 + exp(steepness (loss - midpoint))) per task, and predict accuracy for planned runs")
            { input, floor, predictLoss, budgets, law, fit, json };
        command.SetAction(parse =>
        {
            var targets = new List<(double? Budget, double Loss)>();
            if (parse.GetValue(predictLoss) is { } losses)
                targets.AddRange(SplitList(losses, "--predict-loss").Select(s =>
                    double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
                        ? ((double?)null, v) : throw new UserError($"--predict-loss: '{s}' is not a positive loss")));
            if (parse.GetValue(budgets) is { } budgetText)
            {
                var (resolved, _) = ResolveLaw(parse.GetValue(law), parse.GetValue(fit));
                targets.AddRange(ParseBudgets(budgetText).Select(c => ((double?)c, ComputeOptimal.For(resolved, c).Loss)));
            }
            else if (parse.GetValue(law) is not null || parse.GetValue(fit) is not null)
                throw new UserError("--law and --fit give losses only together with --budgets");

            var results = DownstreamResultsCsv.Read(parse.GetValue(input)!);
            var fits = AccuracyCurveFit.FitPerTask(results, parse.GetValue(floor));
            var rows = fits.Select(f => (Fit: f, Predictions: targets.Select(t => f.Predict(t.Loss, t.Budget)).ToList())).ToList();
            return JsonOrTable.Print(parse, json, rows.Select(r => DownstreamJson(r.Fit, r.Predictions)), () => ShowDownstream(rows));
        });
        return command;
    }

    static Dictionary<string, object?> DownstreamJson(AccuracyFit fit, IReadOnlyList<AccuracyPrediction> predictions) => new()
    {
        ["task"] = fit.Task, ["points"] = fit.Points,
        ["floor"] = fit.Curve.Floor, ["ceiling"] = fit.Curve.Ceiling, ["steepness"] = fit.Curve.Steepness, ["midpoint"] = fit.Curve.Midpoint,
        ["standard_errors"] = fit.StandardErrors, ["rmse"] = fit.Rmse, ["r_squared"] = fit.RSquared, ["floor_fixed"] = fit.FloorFixed, ["ceiling_fixed"] = fit.CeilingFixed,
        ["min_loss"] = fit.MinLoss, ["max_loss"] = fit.MaxLoss,
        ["predictions"] = predictions,
    };

    static void ShowDownstream(IReadOnlyList<(AccuracyFit Fit, List<AccuracyPrediction> Predictions)> rows)
    {
        static string Coefficient(double value, double? error, bool held) =>
            held ? $"{value:F3} (held)" : error is { } e ? $"{value:F3} ± {e:F3}" : $"{value:F3}";
        AnsiConsole.MarkupLine("accuracy = floor + (ceiling - floor) / (1 + exp(steepness (loss - midpoint))), ± one standard error");
        var table = new Table().AddColumn("task").AddColumn(new TableColumn("floor").RightAligned())
            .AddColumn(new TableColumn("ceiling").RightAligned()).AddColumn(new TableColumn("steepness").RightAligned())
            .AddColumn(new TableColumn("midpoint").RightAligned());
        var quality = new Table().AddColumn("task").AddColumn(new TableColumn("points").RightAligned())
            .AddColumn(new TableColumn("losses").RightAligned()).AddColumn(new TableColumn("RMSE").RightAligned())
            .AddColumn(new TableColumn("R²").RightAligned());
        foreach (var (fit, _) in rows)
        {
            var (c, se) = (fit.Curve, fit.StandardErrors);
            table.AddRow(fit.Task.EscapeMarkup(), Coefficient(c.Floor, se.Floor, fit.FloorFixed), Coefficient(c.Ceiling, se.Ceiling, fit.CeilingFixed),
                         Coefficient(c.Steepness, se.Steepness, false), Coefficient(c.Midpoint, se.Midpoint, false));
            quality.AddRow(fit.Task.EscapeMarkup(), $"{fit.Points}", $"{fit.MinLoss:F3}-{fit.MaxLoss:F3}", $"{fit.Rmse:F4}", $"{fit.RSquared:F3}");
        }
        AnsiConsole.Write(table);
        AnsiConsole.Write(quality);
        if (rows.Any(r => r.Fit.CeilingFixed))
            AnsiConsole.MarkupLine("(held) ceiling: the free fit ran past the largest possible accuracy; the points do not reach the upper bend");
        if (rows.All(r => r.Predictions.Count == 0)) return;
        var predictions = new Table().Title("[bold]Predicted accuracy[/] (* outside the fitted losses)")
            .AddColumn("task").AddColumn(new TableColumn("budget").RightAligned()).AddColumn(new TableColumn("loss").RightAligned())
            .AddColumn(new TableColumn("accuracy").RightAligned());
        foreach (var (fit, list) in rows)
            foreach (var p in list)
                predictions.AddRow(fit.Task.EscapeMarkup(), p.Budget is { } b ? b.ToString("0.0E+0", CultureInfo.InvariantCulture) : "-",
                                   $"{p.Loss:F4}", $"{p.Accuracy:F4}{(p.Extrapolated ? " *" : "")}");
        AnsiConsole.Write(predictions);
    }
}
