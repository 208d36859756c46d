using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>What every scaling figure shares: size, fonts readable when the PNG is shrunk into a report, budget colours.</summary>
public static class PlotStyle
{
    public const int Width = 1000, Height = 700;
    const string SansName = "DejaVu Sans", SansFolder = "/usr/share/fonts/truetype/dejavu";

    /// <summary>
    /// The sans face every figure uses. SkiaSharp's Linux build here has no fontconfig, so fonts cannot be found by
    /// name and ScottPlot falls back to a serif face; DejaVu Sans (Debian's and Ubuntu's default) is registered from
    /// its files instead, and the default face stays where they are missing.
    /// </summary>
    static readonly string? Sans = RegisterSans();

    static string? RegisterSans()
    {
        string regular = Path.Combine(SansFolder, "DejaVuSans.ttf"), bold = Path.Combine(SansFolder, "DejaVuSans-Bold.ttf");
        if (!File.Exists(regular)) return null;
        ScottPlot.Fonts.AddFontFile(SansName, regular, bold: false, italic: false);
        if (File.Exists(bold)) ScottPlot.Fonts.AddFontFile(SansName, bold, bold: true, italic: false);
        return SansName;
    }

    public static void Apply(Plot plot, string title, string xLabel, string yLabel)
    {
        if (Sans is not null) plot.Font.Set(Sans);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.Title.Label.FontSize = 22;
        plot.Axes.Title.Label.Bold = true;
        foreach (var axis in new IAxis[] { plot.Axes.Bottom, plot.Axes.Left })
        {
            axis.Label.FontSize = 18;
            axis.Label.Bold = false;
            axis.TickLabelStyle.FontSize = 15;
        }
        plot.Legend.FontSize = 15;
    }

    /// <summary>A coefficient to three significant digits as a reader wants it in a title: 84.2, 0.243, 2.14, 3.32e6.</summary>
    public static string Number(double value)
    {
        if (value == 0 || !double.IsFinite(value)) return value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        int exponent = (int)Math.Floor(Math.Log10(Math.Abs(value)));
        if (exponent is >= -2 and < 4)
            return Math.Round(value, Math.Max(0, 2 - exponent)).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        return $"{(value / Math.Pow(10, exponent)).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}e{exponent}";
    }

    /// <summary>Budgets in order along viridis (stopping short of its pale yellow end, which vanishes on white).</summary>
    public static Color Budget(int index, int count) =>
        new ScottPlot.Colormaps.Viridis().GetColor(count <= 1 ? 0 : 0.85 * index / (count - 1));
}
