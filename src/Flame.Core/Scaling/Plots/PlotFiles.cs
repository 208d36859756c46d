using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>Writes a figure as NAME.png and NAME.svg, each under a temporary name first and renamed into place.</summary>
public static class PlotFiles
{
    public static IReadOnlyList<string> Save(Plot plot, string directory, string name)
    {
        Directory.CreateDirectory(directory);
        string png = Path.Combine(directory, name + ".png"), svg = Path.Combine(directory, name + ".svg");
        Write(png, tmp => plot.SavePng(tmp, PlotStyle.Width, PlotStyle.Height));
        Write(svg, tmp => plot.SaveSvg(tmp, PlotStyle.Width, PlotStyle.Height));
        return [png, svg];
    }

    static void Write(string path, Action<string> save) => Output.OutputFiles.Write(path, save);
}
