using ScottPlot;

namespace Flame.Plots;

/// <summary>
/// The one way a figure is saved: NAME.png and NAME.svg, each written under a temporary name of this process and
/// renamed into place (Output/OutputFiles), so a reader never sees half a figure.
/// </summary>
public static class PlotFiles
{
    public const int DefaultWidth = 900, DefaultHeight = 520;

    /// <summary>Writes PATH.png and PATH.svg (creating the folder) and returns both paths.</summary>
    public static IReadOnlyList<string> Save(Plot plot, string pathWithoutExtension, int width = DefaultWidth, int height = DefaultHeight)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pathWithoutExtension))!);
        string png = pathWithoutExtension + ".png", svg = pathWithoutExtension + ".svg";
        Output.OutputFiles.Write(png, temporary => plot.SavePng(temporary, width, height));
        Output.OutputFiles.Write(svg, temporary => plot.SaveSvg(temporary, width, height));
        return [png, svg];
    }
}
