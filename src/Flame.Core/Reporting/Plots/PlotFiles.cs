using ScottPlot;

namespace Flame.Reporting.Plots;

/// <summary>Saves a plot as NAME.png and NAME.svg (temporary names, then renamed into place).</summary>
public static class PlotFiles
{
    public static void Save(Plot plot, string pathWithoutExtension, int width = 900, int height = 520)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pathWithoutExtension))!);
        foreach (var extension in new[] { ".png", ".svg" })
        {
            var temporary = pathWithoutExtension + ".tmp" + extension;
            if (extension == ".png") plot.SavePng(temporary, width, height);
            else plot.SaveSvg(temporary, width, height);
            File.Move(temporary, pathWithoutExtension + extension, overwrite: true);
        }
    }
}
