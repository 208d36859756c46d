namespace Flame.Analysis;

/// <summary>Each analysis on its own, as a stage `flame run` can call (all four together read the files once: <see cref="TraceAnalysis.Run"/>).</summary>
public static class TraceAnalysisStages
{
    public static AnalysisResult Specialization(string run, AnalysisOptions options) => Only(run, options, TraceAnalyses.Specialization);
    public static AnalysisResult CoActivation(string run, AnalysisOptions options) => Only(run, options, TraceAnalyses.CoActivation);
    public static AnalysisResult Saturation(string run, AnalysisOptions options) => Only(run, options, TraceAnalyses.Saturation);
    public static AnalysisResult LoadBalance(string run, AnalysisOptions options) => Only(run, options, TraceAnalyses.LoadBalance);

    static AnalysisResult Only(string run, AnalysisOptions options, TraceAnalyses which) =>
        TraceAnalysis.Run(run, options with { Analyses = which });
}
