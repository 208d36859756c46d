using Flame.Plots;
using ScottPlot;

namespace Flame.Scaling.Plots;

/// <summary>
/// The scaling study's three figures as PNG and SVG in one folder: IsoFLOP curves, the fitted law's
/// loss contours and N_opt against C. Figures needing Approach 3 (or Approach 2's profiles) are left out when it could not be fitted.
/// </summary>
public static class ScalingPlots
{
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<ScalingRun> runs, IsoFlopFitResult approach2, ParametricLaw? approach3)
    {
        if (runs.Count == 0) throw new UserError("no runs to plot");
        var files = new List<string>();
        if (approach2.Fitted) files.AddRange(PlotFiles.Save(IsoFlopCurvesPlot.Build(runs, approach2), Path.Combine(directory, IsoFlopCurvesPlot.FileName), PlotStyle.Width, PlotStyle.Height));
        if (approach3 is not null)
            files.AddRange(PlotFiles.Save(LossContourPlot.Build(runs, approach3, approach2), Path.Combine(directory, LossContourPlot.FileName), PlotStyle.Width, PlotStyle.Height));
        files.AddRange(PlotFiles.Save(OptimalParamsPlot.Build(approach2, approach3), Path.Combine(directory, OptimalParamsPlot.FileName), PlotStyle.Width, PlotStyle.Height));
        return files;
    }
}
