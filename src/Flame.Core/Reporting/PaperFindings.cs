using System.Globalization;
using System.Net;
using System.Text;
using Flame.Analysis;

namespace Flame.Reporting;

/// <summary>One of the paper's findings as this run measured it: <see cref="Shown"/> is null when the analyses lack the data.</summary>
public sealed record Finding(string Claim, bool? Shown, string Measured)
{
    /// <summary>The verdict and the numbers, as the report prints them.</summary>
    public string Sentence => $"{Claim}: {Shown switch { true => "shown", false => "not shown on this run", null => "not measured" }}. {Measured}";
}

/// <summary>
/// FLAME-MoE's three routing findings (paper §5: experts increasingly specialize, co-activation stays sparse, routing
/// saturates early), each decided from this run's analysis tables (RUN/analysis: specialization_summary.csv,
/// coactivation_summary.csv, saturation.csv) with the numbers that decide it. The paper states them in words; the
/// thresholds here are Flame's, named in each sentence, so that a run can plainly fail to show one.
/// </summary>
public static class PaperFindings
{
    /// <summary>The mean top-1 specialization must rise by this much (absolute S) from the first checkpoint to the last.</summary>
    public const double SpecializationRise = 0.02;
    /// <summary>Sparse: at most this share of expert pairs co-activate strongly (<see cref="CoActivation.StrongPair"/>) at any checkpoint.</summary>
    public const double SparseShare = 0.05;
    /// <summary>Saturated: tokens share this much of their final top-k experts (mean over layers)...</summary>
    public const double Saturated = 0.8;
    /// <summary>...at a checkpoint within this fraction of training.</summary>
    public const double Early = 0.5;

    public const string SpecializationClaim = "Experts specialize increasingly over training";
    public const string CoActivationClaim = "Co-activation stays sparse";
    public const string SaturationClaim = "Routing saturates early";

    public static IReadOnlyList<Finding> Measure(string analysisDirectory) =>
    [
        Specialization(CsvRows.Read(Path.Combine(analysisDirectory, "specialization_summary.csv"))),
        CoActivationSparsity(CsvRows.Read(Path.Combine(analysisDirectory, "coactivation_summary.csv"))),
        Saturation(CsvRows.Read(Path.Combine(analysisDirectory, "saturation.csv"))),
    ];

    /// <summary>Mean over experts of each expert's top-1 S (mean_top1_score), averaged over layers, first checkpoint against the last.</summary>
    public static Finding Specialization(IReadOnlyList<Dictionary<string, string>> rows)
    {
        var data = rows.Where(r => r.ContainsKey("mean_top1_score"))
            .Select(r => (Layer: I(r["layer"]), Step: L(r["checkpoint"]), Score: D(r["mean_top1_score"]))).ToList();
        var steps = data.Select(d => d.Step).Distinct().Order().ToList();
        if (steps.Count < 2) return new(SpecializationClaim, null, "Needs the specialization analysis at two checkpoints or more.");
        long first = steps[0], last = steps[^1];
        double Mean(long step) => data.Where(d => d.Step == step).Average(d => d.Score);
        double a = Mean(first), b = Mean(last);
        var layers = data.Select(d => d.Layer).Distinct().Order().ToList();
        int rose = layers.Count(l => Score(l, last) > Score(l, first));
        double Score(int layer, long step) => data.Where(d => d.Layer == layer && d.Step == step).Select(d => d.Score).DefaultIfEmpty(double.NaN).First();
        bool shown = b - a >= SpecializationRise;
        var numbers = $"The mean top-1 specialization score S (each expert's most specialized token, averaged over experts and " +
                      $"the {layers.Count} MoE layers) went from {F(a)} at step {first} to {F(b)} at step {last} ({Signed(b - a)}); it rose in {rose} of {layers.Count} layers.";
        return new(SpecializationClaim, shown, shown
            ? numbers
            : $"{numbers} A rise needs at least +{F(SpecializationRise)}.");
    }

    /// <summary>The share of strongly co-activated expert pairs (strong_pair_share), at its worst over layers and checkpoints.</summary>
    public static Finding CoActivationSparsity(IReadOnlyList<Dictionary<string, string>> rows)
    {
        var data = rows.Where(r => r.ContainsKey("strong_pair_share"))
            .Select(r => (Layer: I(r["layer"]), Step: L(r["checkpoint"]), Share: D(r["strong_pair_share"]), Max: D(r["max"]))).ToList();
        if (data.Count == 0) return new(CoActivationClaim, null, "Needs the co-activation analysis (coactivation_summary.csv with strong_pair_share; run flame analyze again).");
        var worst = data.MaxBy(d => d.Share);
        int checkpoints = data.Select(d => d.Step).Distinct().Count();
        long last = data.Max(d => d.Step);
        double lastShare = data.Where(d => d.Step == last).Average(d => d.Share);
        double lastMax = data.Where(d => d.Step == last).Max(d => d.Max);
        bool shown = worst.Share <= SparseShare;
        var strong = $"CoAct >= {F(CoActivation.StrongPair)}, i.e. over {Pct(CoActivation.StrongPair, 0)} of one expert's tokens also routed to the other";
        return new(CoActivationClaim, shown, shown
            ? $"At each of the {checkpoints} checkpoints at most {Pct(worst.Share, 1)} of expert pairs co-activate strongly ({strong}; " +
              $"the most, in layer {worst.Layer:D2} at step {worst.Step}), at most {Pct(SparseShare, 0)} as sparse requires; at step {last} " +
              $"{Pct(lastShare, 1)} on average over layers, and the largest CoAct is {F(lastMax)}."
            : $"{Pct(worst.Share, 1)} of expert pairs co-activate strongly ({strong}) in layer {worst.Layer:D2} at step " +
              $"{worst.Step}, more than the {Pct(SparseShare, 0)} that counts as sparse; at step {last} {Pct(lastShare, 1)} on average over layers, largest CoAct {F(lastMax)}.");
    }

    /// <summary>
    /// The saturation at the run's largest k (its top-k), averaged over layers: the first checkpoint before the final one
    /// at which it reaches <see cref="Saturated"/>, as a fraction of training (the final checkpoint is the end of training).
    /// </summary>
    public static Finding Saturation(IReadOnlyList<Dictionary<string, string>> rows)
    {
        var data = rows.Select(r => (Layer: I(r["layer"]), Step: L(r["checkpoint"]), K: I(r["k"]), Value: D(r["saturation"]))).ToList();
        if (data.Count == 0) return new(SaturationClaim, null, "Needs the saturation analysis.");
        int k = data.Max(d => d.K);
        var curve = data.Where(d => d.K == k).GroupBy(d => d.Step).Select(g => (Step: g.Key, Value: g.Average(d => d.Value))).OrderBy(p => p.Step).ToList();
        long final = curve[^1].Step;
        var before = curve.Where(p => p.Step < final).ToList();
        if (before.Count == 0) return new(SaturationClaim, null, "Needs saturation at a checkpoint before the final one.");
        var reached = before.Cast<(long Step, double Value)?>().FirstOrDefault(p => p!.Value.Value >= Saturated);
        string start = $"at the first checkpoint (step {before[0].Step}, {Fraction(before[0].Step, final)} of training) tokens shared {F(before[0].Value)} of their final top-{k} experts (mean over layers)";
        if (reached is { } at && at.Step <= Early * final)
            return new(SaturationClaim, true, $"By step {at.Step} ({Fraction(at.Step, final)} of training) tokens already share {F(at.Value)} of their " +
                $"final top-{k} experts (at least {F(Saturated)} within the first {Pct(Early, 0)} of training); {start}.");
        string late = reached is { } r
            ? $"The routing reached {F(Saturated)} of its final top-{k} only at step {r.Step} ({Fraction(r.Step, final)} of training), later than the first {Pct(Early, 0)}"
            : $"The routing never reached {F(Saturated)} of its final top-{k} before the final checkpoint (at most {F(before.Max(p => p.Value))}, at step {before.MaxBy(p => p.Value).Step})";
        return new(SaturationClaim, false, $"{late}; {start}.");
    }

    /// <summary>The findings as an HTML block for the report.</summary>
    public static void AppendHtml(StringBuilder html, string analysisDirectory)
    {
        html.Append("<h3>The paper's findings on this run</h3><p class=\"caption\">FLAME-MoE reports that experts increasingly specialize, " +
                    "co-activation stays sparse and routing saturates early. Each is decided here from this run's analysis tables; the thresholds are Flame's.</p><ul class=\"findings\">");
        foreach (var f in Measure(analysisDirectory))
        {
            string verdict = f.Shown switch { true => "shown", false => "not shown on this run", null => "not measured" };
            html.Append($"<li><strong>{E(f.Claim)}: {verdict}.</strong> {E(f.Measured)}</li>");
        }
        html.Append("</ul>");
    }

    static string Fraction(long step, long final) => Pct((double)step / final, 0);
    static string Pct(double v, int decimals) => (v * 100).ToString(decimals == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + "%";
    static string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
    static string Signed(double v) => v.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture);
    static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
    static long L(string s) => long.Parse(s, CultureInfo.InvariantCulture);
    static int I(string s) => int.Parse(s, CultureInfo.InvariantCulture);
    static string E(string s) => WebUtility.HtmlEncode(s);
}
