using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>
/// The fitted law L(N, D) = E + A/N^alpha + B/D^beta (spec §3) as loss contours over log N and log D, with the runs
/// on it (coloured by budget, each budget's IsoFLOP line C = 6ND dotted) and the compute-optimal frontier through
/// the closed-form (N_opt, D_opt) of every budget; Approach 2's per-budget minima shown for comparison.
/// </summary>
public static class LossContourPlot
{
    public const string FileName = "loss-contours";
    const int GridSize = 120;

    public static Plot Build(IReadOnlyList<ScalingRun> runs, ParametricLaw law, IsoFlopFitResult? approach2 = null)
    {
        var plot = new Plot();
        PlotStyle.Apply(plot, $"L(N, D) = {PlotStyle.Number(law.E)} + {PlotStyle.Number(law.A)} / N^{PlotStyle.Number(law.Alpha)} + {PlotStyle.Number(law.B)} / D^{PlotStyle.Number(law.Beta)}",
                        "parameters N", "training tokens D");
        plot.Axes.Title.Label.FontSize = 19;
        double xMin = runs.Min(r => Math.Log10(r.Params)) - 0.3, xMax = runs.Max(r => Math.Log10(r.Params)) + 0.3;
        double yMin = runs.Min(r => Math.Log10(r.Tokens)) - 0.3, yMax = runs.Max(r => Math.Log10(r.Tokens)) + 0.3;

        var grid = new Coordinates3d[GridSize, GridSize];
        var losses = new List<double>();
        for (int iy = 0; iy < GridSize; iy++)
            for (int ix = 0; ix < GridSize; ix++)
            {
                double x = xMin + (xMax - xMin) * ix / (GridSize - 1), y = yMin + (yMax - yMin) * iy / (GridSize - 1);
                double loss = law.Loss(Math.Pow(10, x), Math.Pow(10, y));
                grid[iy, ix] = new Coordinates3d(x, y, loss);
                losses.Add(loss);
            }
        var contours = plot.Add.ContourLines(grid);
        contours.ContourLineLevels = Levels(runs.Select(r => law.Loss(r.Params, r.Tokens)), losses.Min());
        contours.Update(grid);
        contours.LineColor = Colors.Gray;
        contours.LineWidth = 1.5f;
        contours.LabelStyle.FontSize = 13;
        contours.LabelStyle.ForeColor = Colors.DimGray;

        var groups = IsoFlopFit.GroupBudgets(runs, approach2?.BudgetTolerance ?? IsoFlopFit.DefaultBudgetTolerance);
        var budgets = groups.Select(g => g.Budget).ToArray();
        for (int i = 0; i < budgets.Length; i++)
        {
            var color = PlotStyle.Budget(i, budgets.Length);
            // D = C/(6N) is a straight line of slope -1 in (log N, log D).
            double offset = Math.Log10(budgets[i] / 6);
            var isoFlop = plot.Add.Line(xMin, offset - xMin, xMax, offset - xMax);
            // Solid and faint: ScottPlot's SVG writer drops dash patterns (and says so on stdout).
            isoFlop.LineColor = color.WithAlpha(0.35);
            isoFlop.LineWidth = 1.5f;
            var budgetRuns = groups[i].Runs.ToArray();
            var points = plot.Add.ScatterPoints(budgetRuns.Select(r => Math.Log10(r.Params)).ToArray(),
                                                budgetRuns.Select(r => Math.Log10(r.Tokens)).ToArray(), color);
            points.MarkerSize = 10;
            // Each IsoFLOP line named at its right end, just past its largest run, instead of five legend entries.
            double xLabel = budgetRuns.Max(r => Math.Log10(r.Params)) + 0.06;
            var label = plot.Add.Text($"C = {LogTicks.Flops(budgets[i])}", xLabel, offset - xLabel);
            label.LabelFontSize = 14;
            label.LabelFontColor = color;
            label.LabelBold = true;
            label.LabelAlignment = Alignment.LowerLeft;
        }
        var runKey = plot.Add.Marker(double.NaN, double.NaN, MarkerShape.FilledCircle, 10, Colors.Gray);
        runKey.LegendText = "runs on their IsoFLOP line C = 6ND";

        // The frontier over every budget whose optimum falls inside the plotted window.
        double cLow = Math.Log10(6) + xMin + yMin, cHigh = Math.Log10(6) + xMax + yMax;
        var frontier = Enumerable.Range(0, 200).Select(k => ComputeOptimal.For(law, Math.Pow(10, cLow + (cHigh - cLow) * k / 199)))
            .Select(p => (X: Math.Log10(p.Params), Y: Math.Log10(p.Tokens)))
            .Where(p => p.X >= xMin && p.X <= xMax && p.Y >= yMin && p.Y <= yMax).ToArray();
        if (frontier.Length > 1)
        {
            var line = plot.Add.ScatterLine(frontier.Select(p => p.X).ToArray(), frontier.Select(p => p.Y).ToArray(), Colors.FireBrick);
            line.LineWidth = 3;
            line.LegendText = "compute-optimal frontier (Approach 3)";
        }
        if (approach2 is not null)
        {
            var minima = approach2.Profiles.Where(p => p.QuadraticOptimalParams is not null).ToArray();
            if (minima.Length > 0)
            {
                var a2 = plot.Add.ScatterPoints(minima.Select(p => Math.Log10(p.QuadraticOptimalParams!.Value)).ToArray(),
                                                minima.Select(p => Math.Log10(p.Budget / (6 * p.QuadraticOptimalParams!.Value))).ToArray(), Colors.SteelBlue);
                a2.MarkerShape = MarkerShape.FilledDiamond;
                a2.MarkerSize = 14;
                a2.LegendText = "Approach 2 minimum per budget";
            }
        }

        plot.Axes.SetLimits(xMin, xMax, yMin, yMax);
        plot.Axes.Bottom.TickGenerator = LogTicks.For(xMin, xMax, LogTicks.Count);
        plot.Axes.Left.TickGenerator = LogTicks.For(yMin, yMax, LogTicks.Count);
        // Below the axes in one row: inside, the legend would hide contours wherever it sat.
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    /// <summary>
    /// Contour levels at a round step (0.05, 0.1, 0.2, 0.25, 0.5, ...) from a little below the lowest loss the law gives
    /// the runs up to their upper quartile: about ten lines where most runs are, none in the steep high-loss corner
    /// (small N and D), where they would crowd together.
    /// </summary>
    static double[] Levels(IEnumerable<double> runLosses, double lowestInWindow)
    {
        var sorted = runLosses.Order().ToArray();
        double low = sorted[0], high = sorted[(int)(0.75 * (sorted.Length - 1))];
        double raw = Math.Max(high - low, 1e-6) / 8;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1, 2, 2.5, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw * 0.999);
        var levels = new List<double>();
        for (double level = (Math.Floor(low / step) - 2) * step; level <= high + 1e-9; level += step)
            if (level > lowestInWindow) levels.Add(Math.Round(level, 6));
        return levels.ToArray();
    }
}
