using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>
/// Approach 2 as FLAME-MoE draws it (spec §3): per budget the runs' losses against N on a log axis, the fitted
/// quadratic in ln N through them, and its minimum marked.
/// </summary>
public static class IsoFlopCurvesPlot
{
    public const string FileName = "isoflop-curves";

    public static Plot Build(IReadOnlyList<ScalingRun> runs, IsoFlopFitResult approach2)
    {
        var plot = new Plot();
        PlotStyle.Apply(plot, "IsoFLOP profiles (Approach 2)", "parameters N (FLAME-MoE count, spec §1)", "final validation loss");
        var profiles = approach2.Profiles;
        double lnMin = runs.Min(r => Math.Log(r.Params)), lnMax = runs.Max(r => Math.Log(r.Params));
        double pad = 0.05 * (lnMax - lnMin) + 0.05;
        bool anyMinimum = false;
        for (int i = 0; i < profiles.Count; i++)
        {
            var p = profiles[i];
            var color = PlotStyle.Budget(i, profiles.Count);
            var budgetRuns = p.Members.OrderBy(r => r.Params).ToArray();
            var points = plot.Add.ScatterPoints(budgetRuns.Select(r => Math.Log10(r.Params)).ToArray(), budgetRuns.Select(r => r.Loss).ToArray(), color);
            points.MarkerSize = 9;
            points.LegendText = $"C = {LogTicks.Flops(p.Budget)}";
            if (p.C0 is not { } c0 || p.C1 is not { } c1 || p.C2 is not { } c2) continue;
            // The parabola over this budget's own sizes, a little beyond, as the fit is only meant there.
            double from = Math.Log(budgetRuns[0].Params) - pad, to = Math.Log(budgetRuns[^1].Params) + pad;
            var xs = Enumerable.Range(0, 101).Select(k => from + (to - from) * k / 100).ToArray();
            var curve = plot.Add.ScatterLine(xs.Select(x => x / Math.Log(10)).ToArray(), xs.Select(x => c0 + c1 * x + c2 * x * x).ToArray(), color);
            curve.LineWidth = 2;
            if (p.QuadraticOptimalParams is { } nOpt && p.QuadraticMinimumLoss is { } lossOpt)
            {
                var star = plot.Add.Marker(Math.Log10(nOpt), lossOpt, MarkerShape.FilledDiamond, 16, color);
                star.MarkerLineColor = Colors.Black;
                star.MarkerLineWidth = 1.5f;
                anyMinimum = true;
            }
        }
        if (anyMinimum)
        {
            // One legend entry for all the minima, drawn in black so it reads as a shape, not a budget.
            var key = plot.Add.Marker(double.NaN, double.NaN, MarkerShape.FilledDiamond, 16, Colors.Gray);
            key.MarkerLineColor = Colors.Black;
            key.MarkerLineWidth = 1.5f;
            key.LegendText = "quadratic minimum";
        }
        double log10Min = (lnMin - pad) / Math.Log(10), log10Max = (lnMax + pad) / Math.Log(10);
        // Vertical range from the runs and minima, not the parabolas, which climb steeply past the outermost sizes.
        var shown = runs.Select(r => r.Loss).Concat(profiles.Where(p => p.QuadraticMinimumLoss is not null).Select(p => p.QuadraticMinimumLoss!.Value)).ToArray();
        double yPad = 0.05 * (shown.Max() - shown.Min()) + 0.01;
        plot.Axes.SetLimits(log10Min, log10Max, shown.Min() - yPad, shown.Max() + yPad);
        plot.Axes.Bottom.TickGenerator = LogTicks.For(log10Min, log10Max, LogTicks.Count);
        // Below the axes: inside, it would sit on the high-loss runs at the edges of the profiles.
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }
}
