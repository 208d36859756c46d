using ScottPlot;

namespace Flame.Plots;

/// <summary>One named curve of a line chart.</summary>
public sealed record Series(string Label, double[] X, double[] Y);

/// <summary>Curves over training (x: step) with a legend, as PNG and SVG.</summary>
public static class LineChart
{
    public static void Save(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        double? yMin = null, double? yMax = null, bool logY = false)
    {
        using var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var ys = logY ? s.Y.Select(v => Math.Log10(v)).ToArray() : s.Y;
            var line = plot.Add.Scatter(s.X, ys, palette.GetColor(i));
            line.LegendText = s.Label;
            line.LineWidth = 2;
            line.MarkerSize = s.X.Length > 40 ? 0 : 5;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(logY ? yLabel + " (log10)" : yLabel);
        if (series.Count > 1) plot.ShowLegend(Alignment.UpperRight);
        plot.Axes.AutoScale();
        if (yMin is not null || yMax is not null)
        {
            var limits = plot.Axes.GetLimits();
            plot.Axes.SetLimitsY(yMin ?? limits.Bottom, yMax ?? limits.Top);
        }
        PlotFiles.Save(plot, path);
    }
}
