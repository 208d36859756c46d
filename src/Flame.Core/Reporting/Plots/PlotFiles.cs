using ScottPlot;

namespace Flame.Reporting.Plots;

/// <summary>Saves a plot as NAME.png and NAME.svg (temporary names of this process, then renamed into place).</summary>
public static class PlotFiles
{
    public static void Save(Plot plot, string pathWithoutExtension, int width = 900, int height = 520)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pathWithoutExtension))!);
        Output.OutputFiles.Write(pathWithoutExtension + ".png", temporary => plot.SavePng(temporary, width, height));
        Output.OutputFiles.Write(pathWithoutExtension + ".svg", temporary => plot.SaveSvg(temporary, width, height));
    }
}
