using System.Text.Json;
using Flame.Tracing;

namespace Flame.Analysis;

/// <summary>
/// The analyses as tables under the output folder (RUN/analysis): CSV for each analysis and a JSON
/// summary (analysis.json, which the report reads) with the problems found.
/// </summary>
public static class AnalysisTables
{
    public const string SummaryFile = "analysis.json";

    public static void Write(AnalysisResult r)
    {
        Directory.CreateDirectory(r.Output);
        string F(string name) => Path.Combine(r.Output, name);
        if (r.Analyses.HasFlag(TraceAnalyses.LoadBalance))
        {
            var shares = new CsvTable("layer", "checkpoint", "expert", "tokens", "share");
            var summary = new CsvTable("layer", "checkpoint", "tokens", "entropy", "normalized_entropy", "coefficient_of_variation", "max_share");
            foreach (var l in r.Layers)
                foreach (var (step, s) in l.LoadBalance)
                {
                    for (int e = 0; e < s.Counts.Length; e++) shares.Add(l.Layer, step, e, s.Counts[e], s.Share[e]);
                    summary.Add(l.Layer, step, s.Tokens, s.Entropy, s.NormalizedEntropy, s.CoefficientOfVariation, s.MaxShare);
                }
            shares.Save(F("load_balance.csv"));
            summary.Save(F("load_balance_summary.csv"));
        }
        if (r.Analyses.HasFlag(TraceAnalyses.CoActivation))
        {
            var view = new CsvTable("layer", "checkpoint", "row", "column", "expert_i", "expert_j", "coactivation");
            var summary = new CsvTable("layer", "checkpoint", "mean_row_max", "max", "strong_pair_share");
            var matrices = new List<object>();
            foreach (var l in r.Layers)
                foreach (var (step, m) in l.CoActivationCounts)
                {
                    var coact = CoActivation.Normalize(m);
                    var top = CoActivation.MostCoActivated(coact, Math.Min(16, r.Experts));
                    for (int a = 0; a < top.Length; a++)
                        for (int b = 0; b < top.Length; b++) view.Add(l.Layer, step, a, b, top[a], top[b], coact[top[a], top[b]]);
                    var rowMax = Enumerable.Range(0, r.Experts).Select(i => Enumerable.Range(0, r.Experts).Max(j => coact[i, j])).ToList();
                    summary.Add(l.Layer, step, rowMax.Average(), rowMax.Max(), CoActivation.StrongPairShare(coact));
                    matrices.Add(new
                    {
                        layer = l.Layer, checkpoint = step,
                        counts = Rows(m, v => v), coactivation = Rows(coact, v => Math.Round(v, 6)),
                    });
                }
            view.Save(F("coactivation_top16.csv"));
            summary.Save(F("coactivation_summary.csv"));
            WriteJson(F("coactivation.json"), new { experts = r.Experts, note = "counts = M (M[i][i] = tokens routed to i); coactivation = M[i][j] / M[i][i], diagonal 0", matrices }, indented: false);
        }
        if (r.Analyses.HasFlag(TraceAnalyses.Saturation))
        {
            var table = new CsvTable("layer", "checkpoint", "k", "saturation");
            foreach (var l in r.Layers)
                foreach (var (step, byK) in l.Saturation)
                    foreach (var (k, value) in byK.OrderBy(x => x.Key)) table.Add(l.Layer, step, k, value);
            table.Save(F("saturation.csv"));
        }
        if (r.Analyses.HasFlag(TraceAnalyses.Specialization))
        {
            var top = new CsvTable("layer", "checkpoint", "expert", "rank", "token_id", "token", "score", "hits", "occurrences");
            var summary = new CsvTable("layer", "checkpoint", "mean_top1_score", "mean_top2_score", "experts_with_top1_above_half");
            foreach (var l in r.Layers)
                foreach (var (step, experts) in l.TopTokens)
                {
                    for (int e = 0; e < experts.Length; e++)
                        foreach (var (t, rank) in experts[e].Select((t, i) => (t, i + 1))) top.Add(l.Layer, step, e, rank, t.Token, r.TokenText(t.Token), t.Score, t.Hits, t.Occurrences);
                    summary.Add(l.Layer, step, MeanRank(experts, 0), MeanRank(experts, 1), experts.Count(x => x.Count > 0 && x[0].Score > 0.5));
                }
            top.Save(F("specialization_top.csv"));
            summary.Save(F("specialization_summary.csv"));
            var evolution = new CsvTable("layer", "expert", "rank", "token_id", "token", "checkpoint", "score");
            foreach (var l in r.Layers)
                foreach (var (expert, rank, token, scores) in l.Evolution)
                    foreach (var (step, score) in scores) evolution.Add(l.Layer, expert, rank, token, r.TokenText(token), step, score);
            evolution.Save(F("specialization_evolution.csv"));
        }
        WriteJson(F(SummaryFile), new
        {
            traces = Path.GetFullPath(r.TraceFolder), experts = r.Experts, top_k = r.TopK, tokens = r.Tokens,
            layers = r.Layers.Select(l => l.Layer), checkpoints = r.Checkpoints, saturation_k = r.SaturationKs,
            analyses = r.Analyses.ToString(), token_layers = r.TokenLayers, seconds = Math.Round(r.Seconds, 3),
            problems = r.Problems.Select(p => new { file = p.File, message = p.Message }),
        });
    }

    /// <summary>Mean over experts of the score of their n-th best token (experts without one count 0).</summary>
    public static double MeanRank(List<SpecializedToken>[] experts, int rank) =>
        experts.Length == 0 ? 0 : experts.Average(x => x.Count > rank ? x[rank].Score : 0);

    static T[][] Rows<TIn, T>(TIn[,] m, Func<TIn, T> f) =>
        Enumerable.Range(0, m.GetLength(0)).Select(i => Enumerable.Range(0, m.GetLength(1)).Select(j => f(m[i, j])).ToArray()).ToArray();

    static void WriteJson(string path, object value, bool indented = true)
    {
        Output.OutputFiles.WriteText(path, JsonSerializer.Serialize(value, new JsonSerializerOptions { WriteIndented = indented }));
    }
}
