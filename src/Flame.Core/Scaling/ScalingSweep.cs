using System.Globalization;
using System.Text.Json;
using Flame.Checkpointing;
using Flame.Experiments;
using Flame.Model;
using Flame.Training;

namespace Flame.Scaling;

/// <summary>What happened to one planned run when the sweep was run.</summary>
public enum SweepRunOutcome { Trained, Resumed, AlreadyFinished }

/// <summary>One finished run of a sweep, a row of results.csv.</summary>
public sealed record SweepResult(string Name, double Flops, long Params, double Tokens, double Loss, SweepRunOutcome Outcome)
{
    public double? ValidationLoss { get; init; }
    public double? TestLoss { get; init; }
}

/// <summary>
/// An IsoFLOP sweep on disk (spec §3): `plan` writes one experiment config per (model, budget) into
/// SWEEP/runs/NAME.toml; `run` trains them one after another into SWEEP/runs/NAME/, skipping finished runs and
/// resuming interrupted ones, and collects each run's final held-out loss as the original did (see
/// <see cref="FinalLosses"/>) into SWEEP/results.csv, the input of `flame scaling fit`.
/// </summary>
public static class ScalingSweep
{
    public const string ResultsFile = "results.csv";

    public static string RunName(string model, double budget) =>
        $"{model}-C{budget.ToString("0.##e+0", CultureInfo.InvariantCulture).Replace("+", "")}";

    /// <summary>Writes the plan's configs: the base experiment with each model and its budget; tokens per step come from the base.</summary>
    public static IReadOnlyList<string> WritePlan(string sweepDirectory, ExperimentConfig baseConfig, IEnumerable<ModelConfig> models, IEnumerable<double> budgets,
        bool overwrite = false, Action<string>? say = null)
    {
        Output.OutputFolder.Claim(sweepDirectory, Output.OutputKind.ScalingSweep, "flame scaling plan", "--out", overwrite, say);
        var runsDir = Path.Combine(sweepDirectory, "runs");
        Directory.CreateDirectory(runsDir);
        var written = new List<string>();
        var modelList = models.ToList();
        foreach (var budget in budgets)
            foreach (var model in modelList)
            {
                var training = baseConfig.Training with
                {
                    Preset = ModelPresets.Names.Contains(model.Name) ? model.Name : "flame-moe-38m",
                    ModelOverrides = ExperimentKeys.OverridesFor(model),
                    FlopBudget = budget,
                    MicroBatch = MicroBatchFor(model, baseConfig.Training),
                };
                var config = ExperimentConfigFile.Resolve(baseConfig with { Training = training });
                var path = Path.Combine(runsDir, RunName(model.Name, budget) + ".toml");
                Output.OutputFiles.WriteText(path, $"# IsoFLOP run: {model.Name} at {budget:G3} FLOPs\n" + ExperimentConfigFile.ToToml(config));
                written.Add(path);
            }
        return written;
    }

    /// <summary>The original's micro-batch for the architecture when it divides the global batch, else the base config's.</summary>
    public static int MicroBatchFor(ModelConfig model, TrainingConfig baseTraining) =>
        OriginalMicroBatches.For(model) is int m && baseTraining.GlobalBatch % m == 0 ? m : baseTraining.MicroBatch;

    /// <summary>Trains every planned run in name order and rewrites results.csv after each one.</summary>
    public static IReadOnlyList<SweepResult> Run(string sweepDirectory, Action<string, ExperimentConfig>? onStart = null,
        Action<TrainingLog>? onLog = null, CancellationToken cancel = default)
    {
        var runsDir = Path.Combine(sweepDirectory, "runs");
        var plans = Directory.Exists(runsDir) ? Directory.GetFiles(runsDir, "*.toml").Order(StringComparer.Ordinal).ToList() : [];
        if (plans.Count == 0) throw new UserError($"{sweepDirectory}: no planned runs in runs/*.toml (write them with flame scaling plan --out {sweepDirectory})");
        var results = new List<SweepResult>();
        foreach (var plan in plans)
        {
            var name = Path.GetFileNameWithoutExtension(plan);
            var config = ExperimentConfigFile.Load(plan, [], written: true);
            var runDir = Path.Combine(runsDir, name);
            var latest = new CheckpointStore(runDir).Latest();
            var outcome = latest is null ? SweepRunOutcome.Trained
                : latest.Value.State.Step >= config.Training.Iterations ? SweepRunOutcome.AlreadyFinished : SweepRunOutcome.Resumed;
            if (outcome != SweepRunOutcome.AlreadyFinished)
            {
                onStart?.Invoke(name, config);
                using var held = Output.RunFolder.Claim(runDir, "flame scaling run", resume: outcome == SweepRunOutcome.Resumed, overwrite: false,
                    demoData: config.Training.Data.Count == 0); // one writer per run, as flame train
                var runner = new ExperimentRunner(config, runDir);
                runner.PrepareData();
                runner.Train(resume: outcome == SweepRunOutcome.Resumed, onLog, cancel);
            }
            var model = config.Training.ResolveModel();
            long n = ModelAccounting.FlameParameterCount(model);
            double tokens = (double)config.Training.Iterations * config.Training.GlobalBatch * config.Training.Sequence;
            var losses = FinalLosses(runDir);
            results.Add(new SweepResult(name, config.Training.FlopBudget > 0 ? config.Training.FlopBudget : 6.0 * n * tokens, n, tokens, losses.Loss, outcome)
                { ValidationLoss = losses.Validation, TestLoss = losses.Test });
            WriteResults(sweepDirectory, results);
        }
        return results;
    }

    /// <summary>
    /// The loss the original fitted: its notebook (analysis/find_scaling_law.ipynb) reads each run's W&amp;B summary
    /// "lm loss validation", the last value logged under that name. Megatron's pretrain() logs, after training,
    /// the validation evaluation and then the test-split evaluation, both as "lm loss validation" at the final
    /// iteration (training.py evaluate_and_print_results), so the summary holds the test evaluation: eval_iters
    /// global batches of the test split. That is the loss column here (test_loss), falling back to the last
    /// validation loss when the run scored no test split; both are kept in their own columns.
    /// </summary>
    static (double Loss, double? Validation, double? Test) FinalLosses(string runDir)
    {
        var path = Output.RunFiles.Metrics(runDir);
        var lines = File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        double? Last(string key) => lines.LastOrDefault(e => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number) is { ValueKind: JsonValueKind.Object } e
            ? e.GetProperty(key).GetDouble() : null;
        var validation = Last("val_loss");
        var test = Last("test_loss");
        double loss = test ?? validation ?? throw new UserError($"{path}: no validation or test loss (set evaluation.eval_iters or evaluation.test_iters > 0)");
        return (loss, validation, test);
    }

    /// <summary>flops is the planned budget (so IsoFLOP profiles group by it); tokens are those actually trained (whole steps).</summary>
    static void WriteResults(string sweepDirectory, IEnumerable<SweepResult> results)
    {
        var table = new Analysis.CsvTable("name", "flops", "params", "tokens", "loss", "val_loss", "test_loss");
        foreach (var r in results) table.Add(r.Name, r.Flops, r.Params, r.Tokens, r.Loss, r.ValidationLoss, r.TestLoss);
        table.Save(Path.Combine(sweepDirectory, ResultsFile));
    }
}
