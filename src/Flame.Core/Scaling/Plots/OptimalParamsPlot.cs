using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>
/// N_opt against C on log-log axes for both approaches (spec §3): Approach 2's per-budget quadratic minima and the
/// power law through them (best runs shown hollow), Approach 3's closed-form N_opt(C); exponents in the legend.
/// </summary>
public static class OptimalParamsPlot
{
    public const string FileName = "optimal-params";

    public static Plot Build(IsoFlopFitResult approach2, ParametricLaw? approach3)
    {
        var plot = new Plot();
        PlotStyle.Apply(plot, "Compute-optimal model size", "training FLOPs C", "compute-optimal parameters N_opt");
        // The axis spans every budget, those left out of Approach 2 included (all of them when it fitted none).
        var budgets = approach2.Profiles.Select(p => p.Budget).Concat(approach2.LeftOut.Select(b => b.Budget)).ToArray();
        double cMin = Math.Log10(budgets.Min()) - 0.3, cMax = Math.Log10(budgets.Max()) + 0.3;
        var cs = Enumerable.Range(0, 61).Select(k => cMin + (cMax - cMin) * k / 60).ToArray();
        var ys = new List<double>();

        if (approach3 is { } law)
        {
            var n = cs.Select(c => Math.Log10(ComputeOptimal.For(law, Math.Pow(10, c)).Params)).ToArray();
            var line = plot.Add.ScatterLine(cs, n, Colors.FireBrick);
            line.LineWidth = 3;
            line.LegendText = $"Approach 3: N_opt ∝ C^{law.ParamsExponent:F3}";
            ys.AddRange(n);
        }
        var quadratic = approach2.Profiles.Where(p => p.QuadraticOptimalParams is not null).ToArray();
        if (approach2.Quadratic is { } powerLaw)
        {
            var n = cs.Select(c => Math.Log10(powerLaw.At(Math.Pow(10, c)))).ToArray();
            var line = plot.Add.ScatterLine(cs, n, Colors.SteelBlue);
            line.LineWidth = 3;
            line.LegendText = $"Approach 2: N_opt ∝ C^{powerLaw.Exponent:F3} (through the minima)";
            ys.AddRange(n);
        }
        if (quadratic.Length > 0)
        {
            var points = plot.Add.ScatterPoints(quadratic.Select(p => Math.Log10(p.Budget)).ToArray(),
                                                quadratic.Select(p => Math.Log10(p.QuadraticOptimalParams!.Value)).ToArray(), Colors.SteelBlue);
            points.MarkerShape = MarkerShape.FilledDiamond;
            points.MarkerSize = 14;
            points.LegendText = "quadratic minimum per budget";
            ys.AddRange(points.Data.GetScatterPoints().Select(p => p.Y));
        }
        if (approach2.Fitted)
        {
            var best = plot.Add.ScatterPoints(approach2.Profiles.Select(p => Math.Log10(p.Budget)).ToArray(),
                                              approach2.Profiles.Select(p => Math.Log10(p.BestRunParams)).ToArray(), Colors.Black);
            best.MarkerShape = MarkerShape.OpenCircle;
            best.MarkerSize = 12;
            best.LegendText = "lowest-loss run per budget";
            ys.AddRange(best.Data.GetScatterPoints().Select(p => p.Y));
        }

        double yMin = ys.Min() - 0.15, yMax = ys.Max() + 0.15;
        plot.Axes.SetLimits(cMin, cMax, yMin, yMax);
        plot.Axes.Bottom.TickGenerator = LogTicks.For(cMin, cMax, LogTicks.Flops);
        plot.Axes.Left.TickGenerator = LogTicks.For(yMin, yMax, LogTicks.Count);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
