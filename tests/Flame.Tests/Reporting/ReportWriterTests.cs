using Flame.Analysis;
using Flame.Experiments;
using Flame.Plots;
using Flame.Reporting.Plots;
using Flame.Reporting;
using Flame.Tests.Data;
using Flame.Tests.Tracing;

namespace Flame.Tests.Reporting;

public class ReportWriterTests
{
    static string FakeRun(TempFolder dir)
    {
        var run = dir.File("run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "config.json"), """{"Preset":"demo","Sequence":256,"Data":["a","b"]}""");
        File.WriteAllLines(Path.Combine(run, "metrics.jsonl"),
        [
            """{"step":5,"lm_loss":9.1,"lr":0.0003}""", """{"step":10,"lm_loss":8.2}""", """{"step":10,"val_loss":8.4,"val_ppl":4447}""",
            """{"step":15,"lm_loss":7.9}""", """{"step":20,"val_loss":7.7}""",
        ]);
        return run;
    }

    /// <summary>What `flame run|train` leaves: config.toml (the experiment's keys) beside the trainer's config.json.</summary>
    static string FakeExperimentRun(TempFolder dir)
    {
        var run = FakeRun(dir);
        var config = ExperimentConfigFile.Load(null, ["training.micro_batch=8", "data.seq=64"]);
        ExperimentConfigFile.WriteResolved(run, config);
        File.WriteAllText(Path.Combine(run, "config.json"), System.Text.Json.JsonSerializer.Serialize(config.Training));
        return run;
    }

    [Fact]
    public void TheConfigurationTableShowsTheExperimentsKeysAsAConfigFileWritesThem()
    {
        using var dir = new TempFolder();
        var run = FakeExperimentRun(dir);
        var html = File.ReadAllText(ReportWriter.Write(run));
        Assert.Contains("<caption>[training]</caption>", html);
        Assert.Contains("<th><code>training.micro_batch</code></th><td><code>8</code></td>", html);
        Assert.Contains("<th><code>data.seq</code></th><td><code>64</code></td>", html);
        Assert.Matches("<th><code>model.preset</code></th><td><code>&quot;[^&]+&quot;</code></td><td class=\"meaning\">named model: ", html);
        // Not the trainer's C# record: no property names, no JSON objects.
        Assert.DoesNotContain("MicroBatch", html);
        Assert.DoesNotContain("ModelOverrides", html);
        Assert.DoesNotContain("FlopBudget", html);
        Assert.DoesNotContain("{&quot;", html);
    }

    [Fact]
    public void ARunWithoutConfigTomlShowsTheTrainersRecord()
    {
        using var dir = new TempFolder();
        var html = File.ReadAllText(ReportWriter.Write(FakeRun(dir)));
        Assert.Contains("<th>Preset</th><td>demo</td>", html);
        Assert.Contains("<th>Data</th><td>a b</td>", html);
        Assert.Contains("this run has no config.toml", html);
    }

    [Fact]
    public void TheLossPlotHasBothCurvesAsPngAndSvg()
    {
        using var dir = new TempFolder();
        var run = FakeRun(dir);
        Assert.True(LossCurvePlot.Save(Path.Combine(run, "metrics.jsonl"), dir.File("loss")));
        Assert.True(new FileInfo(dir.File("loss.png")).Length > 1000);
        var svg = File.ReadAllText(dir.File("loss.svg"));
        Assert.StartsWith("<svg", svg.TrimStart().Replace("<?xml", "<svg").Substring(0, 4));
        Assert.False(LossCurvePlot.Save(dir.File("none.jsonl"), dir.File("none")));
    }

    [Fact]
    public void TheReportIsSelfContainedAndShowsEverySection()
    {
        using var dir = new TempFolder();
        var run = FakeExperimentRun(dir);
        Directory.CreateDirectory(Path.Combine(run, "eval"));
        File.WriteAllText(Path.Combine(run, "eval", "summary.json"),
            """{"average_acc":0.55,"tasks":[{"task":"arc_easy","acc":0.5,"acc_norm":0.6},{"task":"piqa","acc":0.7,"samples":100}]}""");
        LossCurvePlot.Save(Path.Combine(run, "metrics.jsonl"), Path.Combine(run, "scaling", "isoflop"));

        // Traces of two checkpoints and one layer, analysed into RUN/analysis.
        var tokens = Enumerable.Range(0, 40).Select(i => i % 4).ToArray();
        TraceFixtures.WriteSamples(Path.Combine(run, "traces", "samples", "000.parquet"), tokens);
        foreach (var step in new long[] { 5, 10 })
            TraceFixtures.WriteLayer(TraceFixtures.LayerPath(Path.Combine(run, "traces"), step, 2), tokens.Select(t => new[] { t, (t + (int)step) % 8 }).ToArray());
        TraceAnalysis.Run(run, new AnalysisOptions { Experts = 8 });

        var html = File.ReadAllText(ReportWriter.Write(run));
        Assert.Equal(Path.Combine(run, "report", "index.html"), ReportWriter.Write(run));
        // Nothing fetched: no scripts, stylesheets or remote images; images are data URIs.
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<link", html);
        Assert.DoesNotContain("src=\"http", html);
        Assert.Matches("<img alt=\"[^\"]+\" src=\"data:image/png;base64,", html);
        Assert.Contains("<th><code>training.micro_batch</code></th>", html);
        Assert.Contains("<h3>The paper's findings on this run</h3>", html);     // decided from the analysis tables (PaperFindingsTests)
        Assert.Contains("Training loss (lm_loss", html);
        // Evaluation: one row per task, one column per field, and the averages.
        Assert.Contains("<tr><th>task</th><th>acc</th><th>acc_norm</th><th>samples</th></tr>", html);
        Assert.Contains("<tr><td>piqa</td><td class=\"num\">0.7000</td><td class=\"num\"></td><td class=\"num\">100</td></tr>", html);
        Assert.Contains("<th>average_acc</th><td class=\"num\">0.5500</td>", html);
        Assert.Contains("Scaling study figure isoflop.png", html);
        Assert.DoesNotContain("isoflop.svg", html);
        foreach (var entry in PlotIndex.Read(Path.Combine(run, "analysis", "plots")))
            Assert.Contains(System.Net.WebUtility.HtmlEncode(entry.Caption), html);
        Assert.Contains("Router saturation", html);
        Assert.Contains("Load balance per layer", html);
    }

    [Fact]
    public void ARunWithNothingYetStillGetsAReport()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("bare"));
        var html = File.ReadAllText(ReportWriter.Write(dir.File("bare")));
        Assert.Contains("No config.toml", html);
        Assert.Contains("No evaluation yet", html);
        Assert.Contains("No analyses yet", html);
        Assert.Throws<UserError>(() => ReportWriter.Write(dir.File("absent")));
    }
}
