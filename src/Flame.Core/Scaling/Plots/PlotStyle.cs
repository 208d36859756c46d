using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>What every scaling figure shares: size, fonts readable when the PNG is shrunk into a report, budget colours.</summary>
public static class PlotStyle
{
    public const int Width = 1000, Height = 700;

    public static void Apply(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.Title.Label.FontSize = 22;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.Label.FontSize = 18;
            axis.Label.Bold = false;
            axis.TickLabelStyle.FontSize = 15;
        }
        plot.Legend.FontSize = 15;
    }

    /// <summary>Budgets in order along viridis (stopping short of its pale yellow end, which vanishes on white).</summary>
    public static Color Budget(int index, int count) =>
        new ScottPlot.Colormaps.Viridis().GetColor(count <= 1 ? 0 : 0.85 * index / (count - 1));
}
