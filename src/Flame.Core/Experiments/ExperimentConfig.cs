using Flame.Training;

namespace Flame.Experiments;

/// <summary>Which downstream evaluation `flame run` does after training (the harness tasks read their examples from a data folder).</summary>
public sealed record EvaluationSettings
{
    /// <summary>Task names (arc_easy, arc_challenge, openbookqa, hellaswag, piqa, winogrande); empty = none.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];
    /// <summary>Folder holding the tasks' .jsonl/.parquet files.</summary>
    public string DataDir { get; init; } = "";
    /// <summary>Examples per task, 0 = all.</summary>
    public int Limit { get; init; }
    /// <summary>Score the tasks at every checkpoint instead of only the final one.</summary>
    public bool EveryCheckpoint { get; init; }
    /// <summary>Batches of held-out validation tokens for the final perplexity evaluation; 0 = skip.</summary>
    public int PerplexityBatches { get; init; } = 16;
    /// <summary>Seed of the few-shot draws: the harness's 1234 by default; the release recipes use FLAME-MoE's 42.</summary>
    public long FewShotSeed { get; init; } = 1234;
}

/// <summary>Routing traces (spec §5) captured over every checkpoint after training.</summary>
public sealed record TracingSettings
{
    public bool Enabled { get; init; } = true;
    /// <summary>Held-out tokens traced at each checkpoint (the same tokens for every checkpoint).</summary>
    public int Tokens { get; init; } = 4096;
    /// <summary>The split traced: "test", as FLAME-MoE's published traces (spec §7), "valid" or "train".</summary>
    public string Split { get; init; } = "test";
}

/// <summary>
/// One experiment as a config file describes it: the training run (data, tokenizer, model, optimisation,
/// schedule, checkpoints) and the stages after it. <see cref="ExperimentKeys"/> lists and documents every key.
/// </summary>
public sealed record ExperimentConfig
{
    public TrainingConfig Training { get; init; } = new();
    public EvaluationSettings Evaluation { get; init; } = new();
    public TracingSettings Tracing { get; init; } = new();
}
