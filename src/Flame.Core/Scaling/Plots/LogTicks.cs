using ScottPlot;
using ScottPlot.TickGenerators;

namespace Flame.Scaling.Plots;

/// <summary>
/// Log-scale axes for ScottPlot, which has none: data are plotted as log10 values and this puts ticks where a
/// log axis has them (labelled at 1, 2, 5 x 10^k, or only at decades over a wide range; unlabelled at the
/// other integers), labelled with the real values.
/// </summary>
public static class LogTicks
{
    public static NumericManual For(double log10Min, double log10Max, Func<double, string> label)
    {
        var ticks = new NumericManual();
        foreach (var (position, text) in Positions(log10Min, log10Max, label))
            if (text is null) ticks.AddMinor(position);
            else ticks.AddMajor(position, text);
        return ticks;
    }

    /// <summary>Tick positions (log10 of the value) in the range, with a label for the major ones and null for the minor.</summary>
    public static IReadOnlyList<(double Position, string? Label)> Positions(double log10Min, double log10Max, Func<double, string> label)
    {
        var ticks = new List<(double, string?)>();
        double span = log10Max - log10Min;
        double[] labelled = span <= 1.5 ? [1, 2, 5] : span <= 3 ? [1, 3] : [1];
        for (int decade = (int)Math.Floor(log10Min); decade <= (int)Math.Ceiling(log10Max); decade++)
            for (int m = 1; m <= 9; m++)
            {
                double position = decade + Math.Log10(m);
                if (position < log10Min - 1e-9 || position > log10Max + 1e-9) continue;
                ticks.Add((position, labelled.Contains(m) ? label(m * Math.Pow(10, decade)) : null));
            }
        return ticks;
    }

    /// <summary>Counts as researchers write them: 30M, 1.5B, 20B, 1T.</summary>
    public static string Count(double value)
    {
        (double scale, string suffix) = value switch
        {
            >= 1e12 => (1e12, "T"),
            >= 1e9 => (1e9, "B"),
            >= 1e6 => (1e6, "M"),
            >= 1e3 => (1e3, "k"),
            _ => (1, ""),
        };
        return (value / scale).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) + suffix;
    }

    /// <summary>FLOPs in the e-notation budgets are written in: 1e18, 3e18, 1.5e19.</summary>
    public static string Flops(double value)
    {
        int exponent = (int)Math.Floor(Math.Log10(value) + 1e-9);
        double mantissa = Math.Round(value / Math.Pow(10, exponent), 2);
        return $"{mantissa.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}e{exponent}";
    }
}
