using System.Text.Json;
using Flame.Cli.Commands;
using Flame.Experiments;
using Flame.Tests.Data;
using Flame.Tests.Training;

namespace Flame.Tests.Experiments;

/// <summary>`flame run` end to end on a tiny model: every stage leaves its part of the run folder.</summary>
public class RunCommandTests
{
    [Fact]
    public void RunTrainsEvaluatesTracesAnalysesAndReportsIntoOneFolder()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        var run = dir.File("run");
        string[] settings =
        [
            $"data.path={prefix}", "data.seq=16", "training.micro_batch=2", "training.global_batch=4", "training.iterations=6",
            "training.device=cpu", "training.log_every=2", "checkpoints.count=2", "checkpoints.interval=3", "evaluation.eval_iters=1",
            "evaluation.perplexity_batches=2", "tracing.tokens=64", "model.layers=2", "model.hidden=32", "model.heads=4",
            "model.dense_ffn=48", "model.experts=4", "model.top_k=2", "model.expert_ffn=16", "model.shared_expert_ffn=32",
            "model.vocab_size=8192", "model.max_positions=32",
        ];
        var (code, _, error) = CliHarness.Run([RunCommands.Create()], ["run", "--out", run, .. settings.SelectMany(s => new[] { "--set", s })]);
        Assert.True(code == 0, error);

        // The saved config is the experiment that ran.
        var saved = ExperimentConfigFile.Load(Path.Combine(run, ExperimentConfigFile.ResolvedFileName), []);
        Assert.Equal(6, saved.Training.Iterations);
        Assert.Equal(4, saved.Training.ResolveModel().Experts);

        // Evaluation: held-out perplexity of the final checkpoint, exp of its loss.
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval", "summary.json"))).RootElement;
        Assert.Equal(6, summary.GetProperty("checkpoint_step").GetInt64());
        var perplexity = summary.GetProperty("perplexity");
        Assert.Equal(Math.Exp(perplexity.GetProperty("loss").GetDouble()), perplexity.GetProperty("perplexity").GetDouble(), 6);

        // Traces at both checkpoints, for the one MoE layer (layer 1, numbered 02 as published), then the analyses.
        Assert.True(File.Exists(Path.Combine(run, "traces", "actives", "iter_0003", "layer_02.parquet")));
        Assert.True(File.Exists(Path.Combine(run, "traces", "actives", "iter_0006", "layer_02.parquet")));
        var analysis = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "analysis", "analysis.json"))).RootElement;
        Assert.Equal(0, analysis.GetProperty("problems").GetArrayLength());

        // One self-contained report with the run's sections.
        var html = File.ReadAllText(Path.Combine(run, "report", "index.html"));
        foreach (var section in new[] { "id=\"config\"", "id=\"loss\"", "id=\"eval\"", "id=\"routing\"" }) Assert.Contains(section, html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
    }
}
