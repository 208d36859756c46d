using Flame.Plots;

namespace Flame.Analysis;

/// <summary>
/// The analyses as figures under OUTPUT/plots (PNG and SVG): curves over training, per-layer heatmaps,
/// each listed with a one-line caption in plots/index.json.
/// </summary>
public static class AnalysisPlots
{
    public const string Folder = "plots";

    public static IReadOnlyList<PlotEntry> Write(AnalysisResult r)
    {
        var folder = Path.Combine(r.Output, Folder);
        Directory.CreateDirectory(folder);
        var entries = new List<PlotEntry>();
        void Add(string file, string title, string caption, string section) => entries.Add(new(file, title, caption, section));
        static double[] X(IEnumerable<long> steps) => steps.Select(s => (double)s).ToArray();
        string L(int layer) => $"layer {layer:D2}";
        long final = r.Checkpoints[^1];

        if (r.Analyses.HasFlag(TraceAnalyses.Specialization) && r.Layers.Any(l => l.TopTokens.Count > 0))
        {
            LineChart.Save(Path.Combine(folder, "specialization"), "Expert specialization over training", "step", "mean top-1 S(e, v)",
                r.Layers.Where(l => l.TopTokens.Count > 0).Select(l => new Series(L(l.Layer), X(l.TopTokens.Keys),
                    l.TopTokens.Values.Select(e => AnalysisTables.MeanRank(e, 0)).ToArray())).ToList(), 0, 1);
            Add("specialization", "Expert specialization",
                $"For each layer, the mean over experts of S(e, v) for the expert's most specialized token (seen at least 5 times): how exclusively experts own tokens as training goes on.", "specialization");
            foreach (var l in r.Layers.Where(l => l.Evolution.Count > 0))
            {
                var followed = l.Evolution.Where(t => t.Rank == 1).OrderByDescending(t => t.Score.Values.Last()).Take(8).ToList();
                var name = $"specialization_evolution_layer_{l.Layer:D2}";
                LineChart.Save(Path.Combine(folder, name), $"Layer {l.Layer:D2}: top token of the 8 most specialized experts", "step", "S(e, v)",
                    followed.Select(t => new Series($"e{t.Expert}: {Label(r, t.Token)}", X(t.Score.Keys), t.Score.Values.ToArray())).ToList(), 0, 1);
                Add(name, $"Specialization evolution, layer {l.Layer:D2}",
                    $"Layer {l.Layer:D2}: S(e, v) at every checkpoint for the final checkpoint's top token of the 8 most specialized experts (legend: expert and token).", "specialization");
            }
        }
        if (r.Analyses.HasFlag(TraceAnalyses.CoActivation) && r.Layers.Any(l => l.CoActivationCounts.Count > 0))
        {
            LineChart.Save(Path.Combine(folder, "coactivation"), "Co-activation over training", "step", "mean over experts of max_j CoAct[i][j]",
                r.Layers.Where(l => l.CoActivationCounts.Count > 0).Select(l => new Series(L(l.Layer), X(l.CoActivationCounts.Keys),
                    l.CoActivationCounts.Values.Select(m => MeanRowMax(CoActivation.Normalize(m))).ToArray())).ToList(), 0, 1);
            Add("coactivation", "Co-activation over training",
                "For each layer, how strongly an expert's tokens also go to its most frequent partner (mean over experts of the row maximum of CoAct).", "coactivation");
            foreach (var l in r.Layers.Where(l => l.CoActivationCounts.Count > 0))
            {
                var (step, counts) = l.CoActivationCounts.Last();
                var coact = CoActivation.Normalize(counts);
                var top = CoActivation.MostCoActivated(coact, Math.Min(16, r.Experts));
                var labels = top.Select(e => e.ToString()).ToArray();
                var name = $"coactivation_layer_{l.Layer:D2}";
                HeatmapChart.Save(Path.Combine(folder, name), $"Layer {l.Layer:D2}, step {step}: co-activation", CoActivation.Submatrix(coact, top),
                    labels, labels, "expert j", "expert i", "CoAct[i][j] = M[i][j] / M[i][i]");
                Add(name, $"Co-activation, layer {l.Layer:D2}",
                    $"Layer {l.Layer:D2} at step {step}: the share of expert i's tokens that also go to expert j, for the {top.Length} experts with the largest row maxima (diagonal 0).", "coactivation");
            }
        }
        if (r.Analyses.HasFlag(TraceAnalyses.Saturation) && r.Layers.Any(l => l.Saturation.Count > 0))
        {
            var withSaturation = r.Layers.Where(l => l.Saturation.Count > 0).ToList();
            var steps = withSaturation.SelectMany(l => l.Saturation.Keys).Distinct().Order().ToList();
            LineChart.Save(Path.Combine(folder, "saturation"), $"Router saturation vs the final checkpoint (step {final})", "step", "Sat(t)",
                r.SaturationKs.Select(k => new Series($"k = {k}", X(steps), steps.Select(s =>
                    withSaturation.Where(l => l.Saturation.ContainsKey(s)).Average(l => l.Saturation[s][k])).ToArray())).ToList(), 0, 1);
            Add("saturation", "Router saturation",
                "Mean over tokens of |TopK_t ∩ TopK_final| / k, averaged over layers, for each k: how early each checkpoint already routes like the final one.", "saturation");
            int kMax = r.SaturationKs[^1];
            LineChart.Save(Path.Combine(folder, "saturation_layers"), $"Router saturation per layer (k = {kMax})", "step", "Sat(t)",
                withSaturation.Select(l => new Series(L(l.Layer), X(l.Saturation.Keys), l.Saturation.Values.Select(v => v[kMax]).ToArray())).ToList(), 0, 1);
            Add("saturation_layers", "Router saturation per layer",
                $"Router saturation at k = {kMax} for each layer separately: which layers settle their routing first.", "saturation");
        }
        if (r.Analyses.HasFlag(TraceAnalyses.LoadBalance) && r.Layers.Any(l => l.LoadBalance.Count > 0))
        {
            var withLoad = r.Layers.Where(l => l.LoadBalance.Count > 0).ToList();
            LineChart.Save(Path.Combine(folder, "load_balance"), "Load imbalance over training", "step", "coefficient of variation of expert load",
                withLoad.Select(l => new Series(L(l.Layer), X(l.LoadBalance.Keys), l.LoadBalance.Values.Select(s => s.CoefficientOfVariation).ToArray())).ToList(), 0);
            Add("load_balance", "Load balance over training",
                "For each layer, the coefficient of variation of the number of tokens each expert receives (0 = perfectly even), at every checkpoint.", "load_balance");
            var shares = new double[withLoad.Count, r.Experts];
            for (int i = 0; i < withLoad.Count; i++)
            {
                var last = withLoad[i].LoadBalance.Values.Last();
                for (int e = 0; e < r.Experts; e++) shares[i, e] = last.Share[e] * r.Experts;
            }
            HeatmapChart.Save(Path.Combine(folder, "load_balance_share"), "Expert load at the last checkpoint", shares,
                withLoad.Select(l => L(l.Layer)).ToArray(), Enumerable.Range(0, r.Experts).Select(e => e.ToString()).ToArray(),
                "expert", "", "share x experts (1 = even)", 1100, Math.Max(300, 90 + 40 * withLoad.Count));
            Add("load_balance_share", "Expert load per layer",
                "Each expert's share of routed tokens at the last checkpoint relative to an even share (1.0), one row per layer.", "load_balance");
        }
        PlotIndex.Write(folder, entries);
        return entries;
    }

    static string Label(AnalysisResult r, int token) => r.TokenText(token) is { Length: > 0 } text ? $"'{text}'" : $"#{token}";

    static double MeanRowMax(double[,] coact)
    {
        int n = coact.GetLength(0);
        return Enumerable.Range(0, n).Average(i => Enumerable.Range(0, n).Max(j => coact[i, j]));
    }
}
