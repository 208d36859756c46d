using Flame.Checkpointing;
using Flame.Training;

namespace Flame.Experiments;

/// <summary>
/// What `flame run|train --resume` continues: the experiment saved in the run
/// folder's config.toml. A CONFIG file or --set given with --resume may change only what cannot change what was
/// already computed; anything else is refused in one line naming each changed key, before any file is written.
/// </summary>
public static class ResumePolicy
{
    /// <summary>
    /// Keys a resumed run may change: where and how fast the same steps run (device, micro-batch at the same global
    /// batch, the parallel layout, which the resume-across-layouts tests show exact), how often it logs, checkpoints and
    /// validates, MFU's peak, and the stages after training (test split, downstream tasks, traces).
    /// </summary>
    static readonly HashSet<string> Free =
    [
        "training.device", "training.micro_batch", "training.log_every", "training.peak_tflops", "training.recompute", "training.loss_chunk",
        "parallel.expert", "parallel.distributed_optimizer",
        "checkpoints.count", "checkpoints.interval", "evaluation.interval", "evaluation.test_iters",
        "evaluation.tasks", "evaluation.data_dir", "evaluation.limit", "evaluation.every_checkpoint",
        "evaluation.perplexity_batches", "evaluation.fewshot_seed",
        "tracing.enabled", "tracing.tokens", "tracing.split",
    ];

    /// <summary>Recorded at launch (the launcher decides them), never chosen, so never compared.</summary>
    static readonly HashSet<string> Recorded = ["parallel.world", "parallel.data"];

    /// <summary>
    /// Whether `--set key=...` may come with --resume without a comparison: a free key, or the iteration count (more
    /// steps only, checked against the saved value by <see cref="Resolve"/>) and the FLOP budget that sets it.
    /// </summary>
    public static bool MayChange(string key) => Free.Contains(key) || SetsIterations(key);

    static bool SetsIterations(string key) => key is "training.iterations" or "training.flop_budget";

    /// <summary>
    /// The experiment a resumed run continues: config.toml with the allowed changes of <paramref name="configPath"/>
    /// (null: none) and <paramref name="overrides"/>. A run folder without config.toml (an imported checkpoint) starts
    /// the given experiment from its weights. Reads only; throws before anything is written.
    /// </summary>
    public static ExperimentConfig Resolve(string runDirectory, string? configPath, IReadOnlyList<string> overrides)
    {
        Output.RunFolder.RequireResumable(runDirectory);
        var point = ResumePoint.Find(runDirectory);
        var savedPath = Output.RunFiles.ConfigToml(runDirectory);
        if (!File.Exists(savedPath))
        {
            var given = ExperimentConfigFile.Load(configPath, overrides);
            if (given.Training.Iterations < point.Step)
                throw new UserError($"{runDirectory}: training.iterations {given.Training.Iterations} is fewer than the {point.Step} steps of " +
                                    $"{Path.GetFileName(point.Folder)}; give at least {point.Step}");
            return given;
        }
        var saved = ExperimentConfigFile.Load(savedPath, [], written: true);
        var requested = ExperimentConfigFile.Load(configPath ?? savedPath, overrides, written: configPath is null);
        // A CONFIG that names no data means the demo corpus, which the saved config names by its prefix in this run folder.
        if (configPath is not null && requested.Training.Data.Count == 0 && IsDemoData(saved, runDirectory))
            requested = requested with { Training = requested.Training with { Data = saved.Training.Data, Tokenizer = saved.Training.Tokenizer } };
        var refused = Changes(saved, requested).Where(c => !Allowed(c.Key, saved, requested)).Select(c => Describe(c, point)).ToList();
        if (refused.Count > 0)
            throw new UserError($"{runDirectory}: --resume continues the experiment saved in {ExperimentConfigFile.ResolvedFileName}, and these changes " +
                                $"would alter what it computed: {string.Join("; ", refused)}; keep the saved values, or train a new run with another --out");
        return requested;
    }

    /// <summary>Every key whose value differs, as the strings --set takes.</summary>
    public static IEnumerable<(string Key, string Old, string New)> Changes(ExperimentConfig saved, ExperimentConfig requested) =>
        ExperimentKeys.All.Where(k => !Recorded.Contains(k.Name))
            .Select(k => (k.Name, Old: ExperimentKeys.Format(k.Get(saved)), New: ExperimentKeys.Format(k.Get(requested))))
            .Where(c => c.Old != c.New);

    static bool Allowed(string key, ExperimentConfig saved, ExperimentConfig requested) =>
        Free.Contains(key) || SetsIterations(key) && requested.Training.Iterations >= saved.Training.Iterations;

    static string Describe((string Key, string Old, string New) change, ResumePoint point)
    {
        static string Show(string value) => value.Length == 0 ? "\"\"" : value;
        var text = $"{change.Key} {Show(change.Old)} -> {Show(change.New)}";
        if (change.Key == "training.iterations" && long.TryParse(change.New, out long iterations) && iterations < point.Step)
            text += $" (fewer than the {point.Step} steps already done in {Path.GetFileName(point.Folder)})";
        else if (change.Key == "training.iterations") text += " (a resumed run may only train more)";
        return text;
    }

    /// <summary>The saved data is the demo corpus Flame prepared in this run folder (ExperimentRunner.PrepareData).</summary>
    static bool IsDemoData(ExperimentConfig saved, string runDirectory) =>
        saved.Training is { Tokenizer: "demo", Data: [var prefix] }
        && Path.GetFullPath(prefix) == Path.GetFullPath(Data.DemoDataset.PrefixIn(Output.RunFiles.Data(runDirectory)));
}
