using ScottPlot;

namespace Flame.Plots;

/// <summary>A labelled heatmap (row 0 at the top) with a colour bar, as PNG and SVG.</summary>
public static class HeatmapChart
{
    public static void Save(string path, string title, double[,] values, string[] rowLabels, string[] columnLabels,
        string xLabel, string yLabel, string scaleLabel, int width = 760, int height = 640)
    {
        using var plot = new Plot();
        var map = plot.Add.Heatmap(values);
        map.Colormap = new ScottPlot.Colormaps.Viridis();
        var bar = plot.Add.ColorBar(map);
        bar.Label = scaleLabel;
        int rows = values.GetLength(0), columns = values.GetLength(1);
        plot.Axes.Bottom.TickGenerator = Ticks(columnLabels, i => i);
        // ScottPlot draws row 0 at the top of the heatmap, at y = rows - 1.
        plot.Axes.Left.TickGenerator = Ticks(rowLabels, i => rows - 1 - i);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.SetLimits(-0.5, columns - 0.5, -0.5, rows - 0.5);
        PlotFiles.Save(plot, path, width, height);
    }

    static ScottPlot.TickGenerators.NumericManual Ticks(string[] labels, Func<int, double> position)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int every = Math.Max(1, (int)Math.Ceiling(labels.Length / 32.0));
        for (int i = 0; i < labels.Length; i += every) ticks.AddMajor(position(i), labels[i]);
        return ticks;
    }
}
