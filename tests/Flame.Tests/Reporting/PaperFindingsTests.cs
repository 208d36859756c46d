using System.Text;
using Flame.Analysis;
using Flame.Reporting;
using Flame.Tests.Data;

namespace Flame.Tests.Reporting;

public class PaperFindingsTests
{
    /// <summary>Analysis tables as flame analyze writes them: two layers, checkpoints 10, 20, 30, 40 (40 the final one).</summary>
    static string Tables(TempFolder dir, double[] top1Layer2, double[] top1Layer3, double[] strongShare, double[] saturationK6)
    {
        var folder = dir.File("analysis");
        Directory.CreateDirectory(folder);
        long[] steps = [10, 20, 30, 40];
        var specialization = new CsvTable("layer", "checkpoint", "mean_top1_score", "mean_top2_score", "experts_with_top1_above_half");
        var coactivation = new CsvTable("layer", "checkpoint", "mean_row_max", "max", "strong_pair_share");
        var saturation = new CsvTable("layer", "checkpoint", "k", "saturation");
        for (int i = 0; i < steps.Length; i++)
            foreach (var layer in new[] { 2, 3 })
            {
                specialization.Add(layer, steps[i], layer == 2 ? top1Layer2[i] : top1Layer3[i], 0.1, 0);
                coactivation.Add(layer, steps[i], 0.2, layer == 2 ? 0.45 : 0.35, layer == 2 ? strongShare[i] : strongShare[i] / 2);
                saturation.Add(layer, steps[i], 1, 0.99);      // only the largest k (the run's top-k) decides
                saturation.Add(layer, steps[i], 6, saturationK6[i] + (layer == 2 ? 0.02 : -0.02));
            }
        specialization.Save(Path.Combine(folder, "specialization_summary.csv"));
        coactivation.Save(Path.Combine(folder, "coactivation_summary.csv"));
        saturation.Save(Path.Combine(folder, "saturation.csv"));
        return folder;
    }

    [Fact]
    public void ARunThatShowsAllThree()
    {
        using var dir = new TempFolder();
        var findings = PaperFindings.Measure(Tables(dir,
            top1Layer2: [0.30, 0.34, 0.38, 0.42], top1Layer3: [0.20, 0.22, 0.21, 0.26],
            strongShare: [0.01, 0.02, 0.04, 0.03], saturationK6: [0.60, 0.85, 0.95, 1.0]));
        Assert.Equal([true, true, true], findings.Select(f => f.Shown));
        // Specialization: mean over layers (0.30 + 0.20) / 2 = 0.250 at step 10, (0.42 + 0.26) / 2 = 0.340 at step 40.
        Assert.Contains("from 0.250 at step 10 to 0.340 at step 40 (+0.090); it rose in 2 of 2 layers", findings[0].Measured);
        // Co-activation: the worst share is layer 2's 4.0% at step 30;.
        Assert.Contains("at most 4.0% of expert pairs", findings[1].Measured);
        Assert.Contains("layer 02 at step 30", findings[1].Measured);
        Assert.Contains("largest CoAct is 0.450", findings[1].Measured);
        // Saturation: layer mean 0.85 first reaches 0.8 at step 20, 50% of the 40 steps.
        Assert.Contains("By step 20 (50% of training) tokens already share 0.850 of their final top-6", findings[2].Measured);
        Assert.Contains("step 10, 25% of training) tokens shared 0.600", findings[2].Measured);
        Assert.Equal("Routing saturates early: shown. By step 20", findings[2].Sentence[..42]);
    }

    [Fact]
    public void ARunThatShowsNoneSaysSoWithItsNumbers()
    {
        using var dir = new TempFolder();
        var findings = PaperFindings.Measure(Tables(dir,
            top1Layer2: [0.30, 0.31, 0.30, 0.31], top1Layer3: [0.20, 0.19, 0.20, 0.20],
            strongShare: [0.02, 0.04, 0.12, 0.08], saturationK6: [0.40, 0.55, 0.82, 1.0]));
        Assert.Equal([false, false, false], findings.Select(f => f.Shown));
        Assert.All(findings, f => Assert.StartsWith(f.Claim + ": not shown on this run. ", f.Sentence));
        Assert.Contains("from 0.250 at step 10 to 0.255 at step 40 (+0.005); it rose in 1 of 2 layers. A rise needs at least +0.020", findings[0].Measured);
        Assert.Contains("12.0% of expert pairs co-activate strongly", findings[1].Measured);
        Assert.Contains("layer 02 at step 30, more than the 5%", findings[1].Measured);
        // 0.82 is reached at step 30, 75% of training: saturated, but not early.
        Assert.Contains("The routing reached 0.800 of its final top-6 only at step 30 (75% of training), later than the first 50%", findings[2].Measured);
    }

    [Fact]
    public void SaturationThatNeverArrivesAndMissingTablesAreSaidPlainly()
    {
        using var dir = new TempFolder();
        var saturation = PaperFindings.Measure(Tables(dir,
            top1Layer2: [0.3, 0.3, 0.3, 0.3], top1Layer3: [0.3, 0.3, 0.3, 0.3], strongShare: [0, 0, 0, 0], saturationK6: [0.30, 0.50, 0.70, 1.0]))[2];
        Assert.False(saturation.Shown);
        Assert.Contains("never reached 0.800 of its final top-6 before the final checkpoint (at most 0.700, at step 30)", saturation.Measured);

        using var empty = new TempFolder();
        var none = PaperFindings.Measure(empty.Path);
        Assert.Equal([null, null, null], none.Select(f => f.Shown));
        var html = new StringBuilder();
        PaperFindings.AppendHtml(html, empty.Path);
        Assert.Equal(3, html.ToString().Split("not measured.").Length - 1);
    }

    [Fact]
    public void StrongPairShareCountsOrderedPairsAtOrAboveTheThreshold()
    {
        // 3 experts, 6 ordered pairs; 0.3 (at the threshold) and 0.9 are strong: 2 / 6.
        var coact = new double[,] { { 0, 0.3, 0.1 }, { 0.9, 0, 0.29 }, { 0, 0.05, 0 } };
        Assert.Equal(2.0 / 6, CoActivation.StrongPairShare(coact), 12);
    }
}
