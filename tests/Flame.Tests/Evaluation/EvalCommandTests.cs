using System.CommandLine;
using System.Text.Json;
using Flame.Cli.Commands;
using Flame.Cli;
using Flame.Data.Indexed;
using Flame.Tests.Data;
using static Flame.Tests.Evaluation.EvalFixtures;

namespace Flame.Tests.Evaluation;

/// <summary>`flame eval`, `eval compare` and `eval perplexity` end to end on hand-built checkpoints.</summary>
public class EvalCommandTests
{
    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run([EvalCommands.Create()], args);

    static string TaskData(TempFolder dir)
    {
        var data = dir.File("tasks");
        WriteSplit(data, "piqa", "train", Enumerable.Range(0, 12).Select(PiqaTrainRow).ToArray());
        WriteSplit(data, "piqa", "validation", PiqaRow, PiqaRow.Replace("\"label\": 1", "\"label\": 0"), PiqaRow, """{"goal": "skipped"}""");
        WriteSplit(data, "winogrande", "validation", WinoGrandeRow, WinoGrandeRow.Replace("\"answer\": \"1\"", "\"answer\": \"2\""));
        return data;
    }

    [Fact]
    public void EvalWritesPerTaskResultsAndTheSummaryTheReportReads()
    {
        using var dir = new TempFolder();
        using (var model = UniformModel()) SaveCheckpoint(model, dir.File("run"), 40);
        var data = TaskData(dir);
        var (code, output, err) = Run("eval", "--run", dir.File("run"), "--tasks", "piqa,winogrande", "--data-dir", data,
            "--shots", "piqa=2", "--device", "cpu", "--batch-size", "3", "--json");
        Assert.True(code == 0, err);

        using var summary = JsonDocument.Parse(File.ReadAllText(dir.File("run/eval/summary.json")));
        var root = summary.RootElement;
        Assert.Equal(["checkpoint_step", "tasks", "average_acc", "average_acc_norm"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(40, root.GetProperty("checkpoint_step").GetInt64());
        var tasks = root.GetProperty("tasks").EnumerateArray().ToList();
        Assert.Equal(["task", "num_fewshot", "n", "acc", "acc_stderr", "acc_norm", "acc_norm_stderr"], tasks[0].EnumerateObject().Select(p => p.Name));
        Assert.Equal(("piqa", 2, 3), (tasks[0].GetProperty("task").GetString(), tasks[0].GetProperty("num_fewshot").GetInt32(), tasks[0].GetProperty("n").GetInt32()));
        Assert.Equal(("winogrande", 0, 2), (tasks[1].GetProperty("task").GetString(), tasks[1].GetProperty("num_fewshot").GetInt32(), tasks[1].GetProperty("n").GetInt32()));
        double meanAcc = tasks.Average(t => t.GetProperty("acc").GetDouble());
        Assert.Equal(meanAcc, root.GetProperty("average_acc").GetDouble(), 12);
        // WinoGrande: the same continuation after both contexts, so a uniform model ties and picks option 1 (gold of one of two rows).
        Assert.Equal(0.5, tasks[1].GetProperty("acc").GetDouble());
        Assert.Equal(tasks[1].GetProperty("acc").GetDouble(), tasks[1].GetProperty("acc_norm").GetDouble());
        Assert.Equal(root.GetProperty("checkpoint_step").GetInt64(), JsonDocument.Parse(output).RootElement.GetProperty("checkpoint_step").GetInt64());

        using var piqa = JsonDocument.Parse(File.ReadAllText(dir.File("run/eval/piqa.json")));
        Assert.Equal(1, piqa.RootElement.GetProperty("skipped_rows").GetInt32());
        Assert.Equal(6, piqa.RootElement.GetProperty("requests").GetInt32());
        Assert.Equal(0, piqa.RootElement.GetProperty("truncated_requests").GetInt32());
        Assert.StartsWith("Question: goal ", piqa.RootElement.GetProperty("example_context").GetString());
        Assert.False(JsonDocument.Parse(File.ReadAllText(dir.File("run/eval/winogrande.json"))).RootElement.GetProperty("acc_norm_defined").GetBoolean());
    }

    [Fact]
    public void LogSamplesWritesEachDocumentsPromptsAndScoresWithTheHarnessDraws()
    {
        using var dir = new TempFolder();
        using (var model = UniformModel()) SaveCheckpoint(model, dir.File("run"), 40);
        var (code, _, err) = Run("eval", "--run", dir.File("run"), "--tasks", "piqa,winogrande", "--data-dir", TaskData(dir),
            "--shots", "piqa=2", "--log-samples", "--device", "cpu", "--json");
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(dir.File("run/eval/samples_piqa.jsonl"));
        Assert.Equal(3, lines.Length);                                  // the fourth validation row is skipped (no sol1)
        // PIQA has no test split: the harness draws k + 1 = 3 of the 12 training rows and keeps the first 2.
        // Python 3.11: r = random.Random(1234); [r.sample(range(12), 3) for _ in range(3)] -> [7, 1, 0], [1, 9, 0], [10, 1, 11].
        int[][] shots = [[7, 1], [1, 9], [10, 1]];
        double perToken = Math.Log(TinyConfig().PaddedVocab);        // the uniform model: every token costs ln 8320
        for (int d = 0; d < lines.Length; d++)
        {
            using var sample = JsonDocument.Parse(lines[d]);
            var root = sample.RootElement;
            Assert.Equal(["doc_id", "requests", "loglikelihoods", "is_greedy", "gold", "acc", "acc_norm"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal(d, root.GetProperty("doc_id").GetInt32());
            var requests = root.GetProperty("requests").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetString()!).ToArray()).ToList();
            var prefix = string.Concat(shots[d].Select(i => $"Question: goal {i}\nAnswer: right {i}\n\n"));
            Assert.Equal([[prefix + "Question: When boiling butter, when it's ready, you can\nAnswer:", " Pour it onto a plate"],
                          [prefix + "Question: When boiling butter, when it's ready, you can\nAnswer:", " Pour it into a jar"]], requests);
            var lls = root.GetProperty("loglikelihoods").EnumerateArray().Select(x => x.GetDouble()).ToList();
            Assert.Equal(2, lls.Count);
            foreach (var ll in lls)
            {
                double tokens = -ll / perToken;                             // a whole number of equally likely tokens
                Assert.True(tokens >= 1 && Math.Abs(tokens - Math.Round(tokens)) < 1e-3, $"{ll}");
            }
            int gold = root.GetProperty("gold").GetInt32();
            Assert.Equal(d == 1 ? 0 : 1, gold);
            int best = lls[1] > lls[0] ? 1 : 0;
            Assert.Equal(best == gold ? 1.0 : 0.0, root.GetProperty("acc").GetDouble());
            Assert.Equal(2, root.GetProperty("is_greedy").GetArrayLength());
        }
        // WinoGrande reports only acc: acc_norm is null, and 0-shot prompts carry no examples.
        var wino = File.ReadAllLines(dir.File("run/eval/samples_winogrande.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, wino.Count);
        Assert.All(wino, w => Assert.Equal(JsonValueKind.Null, w.GetProperty("acc_norm").ValueKind));
        Assert.Equal("Sarah was a much better surgeon than Maria so Sarah", wino[0].GetProperty("requests")[0][0].GetString());
        // Without --log-samples no sample file is written.
        Assert.True(Run("eval", "--run", dir.File("run"), "--tasks", "winogrande", "--data-dir", TaskData(dir), "--device", "cpu",
            "--output", dir.File("plain")).Code == 0);
        Assert.Empty(Directory.GetFiles(dir.File("plain"), "samples_*"));
    }

    [Fact]
    public void LongFewShotPromptsAreTruncatedAndCounted()
    {
        using var dir = new TempFolder();
        using (var model = UniformModel(maxPositions: 16)) SaveCheckpoint(model, dir.File("run"), 1);
        var (code, _, err) = Run("eval", "--checkpoint", dir.File("run/checkpoints/iter_0000001"), "--tasks", "piqa", "--data-dir", TaskData(dir),
            "--shots", "5", "--limit", "2", "--device", "cpu");
        Assert.True(code == 0, err);
        using var piqa = JsonDocument.Parse(File.ReadAllText(dir.File("run/eval/piqa.json")));
        Assert.Equal(4, piqa.RootElement.GetProperty("truncated_requests").GetInt32());
        Assert.Equal(2, piqa.RootElement.GetProperty("n").GetInt32());
        Assert.Equal(16, piqa.RootElement.GetProperty("window").GetInt32());
    }

    [Fact]
    public void AMissingTaskFileIsOneLineAndExitCodeTwo()
    {
        using var dir = new TempFolder();
        using (var model = UniformModel()) SaveCheckpoint(model, dir.File("run"), 1);
        Directory.CreateDirectory(dir.File("empty"));
        var (code, _, err) = Run("eval", "--run", dir.File("run"), "--tasks", "hellaswag", "--data-dir", dir.File("empty"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.StartsWith("error: hellaswag: no validation split", err);
        Assert.Contains("activity_label, ctx_a, ctx_b, endings, label", err);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Equal(2, Run("eval", "--tasks", "piqa").Code);
        Assert.Contains("--shots", Run("eval", "--run", dir.File("run"), "--shots", "piqa=-1").Err);
    }

    [Fact]
    public void CompareShowsBothRunsPerTaskAndTheAverageOverSharedTasks()
    {
        using var dir = new TempFolder();
        void Summary(string run, string json)
        {
            Directory.CreateDirectory(dir.File($"{run}/eval"));
            File.WriteAllText(dir.File($"{run}/eval/summary.json"), json);
        }
        Summary("moe", """{"checkpoint_step": 100, "tasks": [{"task": "arc_easy", "num_fewshot": 10, "n": 10, "acc": 0.6, "acc_stderr": 0.1, "acc_norm": 0.5, "acc_norm_stderr": 0.1}, {"task": "piqa", "num_fewshot": 10, "n": 10, "acc": 0.7, "acc_stderr": 0.1, "acc_norm": 0.8, "acc_norm_stderr": 0.1}], "average_acc": 0.65, "average_acc_norm": 0.65}""");
        Summary("dense", """{"checkpoint_step": 90, "tasks": [{"task": "arc_easy", "num_fewshot": 10, "n": 10, "acc": 0.4, "acc_stderr": 0.1, "acc_norm": 0.45, "acc_norm_stderr": 0.1}], "average_acc": 0.4, "average_acc_norm": 0.45}""");
        var (code, output, err) = Run("eval", "compare", dir.File("moe"), dir.File("dense"), "--json");
        Assert.True(code == 0, err);
        var root = JsonDocument.Parse(output).RootElement;
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(0.2, rows[0].GetProperty("acc_delta").GetDouble(), 12);
        Assert.Equal(JsonValueKind.Null, rows[1].GetProperty("acc_b").ValueKind);
        Assert.Equal(0.6, root.GetProperty("average").GetProperty("acc_a").GetDouble(), 12);
        Assert.Equal(0.05, root.GetProperty("average").GetProperty("acc_norm_delta").GetDouble(), 12);
        Assert.Equal(0, Run("eval", "compare", dir.File("moe"), dir.File("dense")).Code);
        Assert.Contains("run flame eval first", Run("eval", "compare", dir.File("moe"), dir.File("nothing")).Err);
    }

    [Fact]
    public void AUniformModelsPerplexityIsItsNumberOfOutputRows()
    {
        using var dir = new TempFolder();
        var prefix = dir.File("tokens");
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16))
        {
            for (int d = 0; d < 100; d++) writer.AddDocument(Enumerable.Range(d, 20).Append(0).ToArray());
            writer.Complete();
        }
        using (var model = UniformModel()) SaveCheckpoint(model, dir.File("run"), 3);
        var (code, output, err) = Run("eval", "perplexity", "--checkpoint", dir.File("run/checkpoints/iter_0000003"), "--data", prefix,
            "--seq", "8", "--batches", "2", "--batch-size", "2", "--device", "cpu", "--json");
        Assert.True(code == 0, err);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(8320, result.GetProperty("perplexity").GetDouble(), 1e-1);
        Assert.Equal(Math.Log(8320), result.GetProperty("loss").GetDouble(), 1e-5);
        Assert.Equal(32, result.GetProperty("tokens").GetInt64());
        Assert.Equal("valid", result.GetProperty("split").GetString());
        Assert.True(File.Exists(dir.File("run/eval/perplexity.json")));
        using var summary = JsonDocument.Parse(File.ReadAllText(dir.File("run/eval/summary.json")));
        Assert.Empty(summary.RootElement.GetProperty("tasks").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, summary.RootElement.GetProperty("average_acc").ValueKind);
    }

    [Fact]
    public void PerplexityOfATrainedRunReproducesTheTrainersLoggedValidationLoss()
    {
        // The run's config.json names its data, sequence and seed; the trainer's one validation (eval_iters 1 global batch
        // of 4) scored the split's first 4 samples, 2 batches of 2 here.
        using var dir = new TempFolder();
        var prefix = dir.File("tiny");
        var random = new Random(5);
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16))
        {
            for (int d = 0; d < 60; d++)
            {
                int start = random.Next(0, 199);
                writer.AddDocument(Enumerable.Range(0, 40).Select(k => (start + k) % 199 + 1).Append(0).ToArray());
            }
            writer.Complete();
        }
        var config = new Flame.Training.TrainingConfig
        {
            Preset = "demo",
            ModelOverrides = ["layers=2", "hidden=32", "heads=4", "dense_ffn=48", "experts=4", "top_k=2", "expert_ffn=16",
                "shared_expert_ffn=32", "vocab_size=8192", "max_positions=32"],
            Data = [prefix], Sequence = 16, MicroBatch = 2, GlobalBatch = 4, Iterations = 3, Checkpoints = 1,
            LogEvery = 1, EvalIters = 1, Device = "cpu",
        };
        new Flame.Training.Trainer(config, dir.File("run")).Run(resume: false);
        var logged = File.ReadAllLines(dir.File("run/metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Last(l => l.TryGetProperty("val_loss", out _)).GetProperty("val_loss").GetDouble();

        var (code, output, err) = Run("eval", "perplexity", "--run", dir.File("run"), "--batches", "2", "--batch-size", "2", "--device", "cpu", "--json");
        Assert.True(code == 0, err);
        var result = JsonDocument.Parse(output).RootElement;
        Assert.Equal(16, result.GetProperty("sequence").GetInt32());
        Assert.Equal(3, result.GetProperty("checkpoint_step").GetInt64());
        Assert.Equal(logged, result.GetProperty("loss").GetDouble(), 1e-4); // eval's batches vs the trainer's validation: fp32 rounding of a loss of ~9
        Assert.Equal(1.0, result.GetProperty("perplexity").GetDouble() / Math.Exp(logged), 1e-5);
    }
}
