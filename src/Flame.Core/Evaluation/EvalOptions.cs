namespace Flame.Evaluation;

/// <summary>
/// What to evaluate and how. Tasks need <see cref="DataDir"/>; perplexity needs <see cref="PerplexityData"/>
/// (a dataset prefix, or weights and prefixes). With neither, nothing can run. Defaults follow spec §4 and
/// the harness (few-shot seed 1234).
/// </summary>
public sealed record EvalOptions
{
    /// <summary>Task names (see <see cref="Tasks.HarnessTasks"/>); empty means all six when a data folder is given.</summary>
    public IReadOnlyList<string> Tasks { get; init; } = [];
    public string? DataDir { get; init; }
    /// <summary>Score only the first N documents of each task (the harness's --limit).</summary>
    public int? Limit { get; init; }
    /// <summary>Shots per task name overriding FLAME-MoE's defaults; key "*" applies to every task.</summary>
    public IReadOnlyDictionary<string, int> Shots { get; init; } = new Dictionary<string, int>();
    /// <summary>Seed of the few-shot draws: the harness's default 1234; FLAME-MoE's evaluate.sh passes --seed 42, which sets it to 42.</summary>
    public long FewShotSeed { get; init; } = 1234;
    /// <summary>Also write every document's requests and scores to samples_&lt;task&gt;.jsonl (the harness's --log_samples).</summary>
    public bool LogSamples { get; init; }
    public int BatchSize { get; init; } = 16;
    public string Device { get; init; } = "auto";
    /// <summary>Compute dtype on CUDA (default bf16); CPU always computes in fp32 unless set.</summary>
    public TorchSharp.torch.ScalarType? ComputeType { get; init; }
    public IReadOnlyList<string>? PerplexityData { get; init; }
    /// <summary>Tokens per perplexity sample; null: the run's training sequence length, else the model's window.</summary>
    public int? PerplexitySequence { get; init; }
    /// <summary>Perplexity batches (of <see cref="BatchSize"/> samples); 0: the whole split, which for a real corpus is huge.</summary>
    public int PerplexityBatches { get; init; } = 50;
    /// <summary>Split of the token file scored for perplexity: the held-out validation split by default.</summary>
    public Data.Samples.SplitName PerplexitySplit { get; init; } = Data.Samples.SplitName.Valid;
    /// <summary>Where results go; null: the run's eval/ folder.</summary>
    public string? OutputDir { get; init; }

    public int ShotsFor(Tasks.TaskDefinition task) =>
        Shots.TryGetValue(task.Name, out var k) ? k : Shots.TryGetValue("*", out var all) ? all : task.DefaultShots;

    public IReadOnlyList<Tasks.TaskDefinition> SelectedTasks() =>
        DataDir is null ? [] : Tasks.Count == 0 ? Evaluation.Tasks.HarnessTasks.All : Tasks.Select(Evaluation.Tasks.HarnessTasks.Get).ToList();

    public EvalOptions Validate()
    {
        if (Limit is < 1) throw new UserError($"--limit must be at least 1 (got {Limit})");
        if (BatchSize < 1) throw new UserError($"batch size must be positive (got {BatchSize})");
        if (PerplexityBatches < 0) throw new UserError($"perplexity batches must be 0 (all) or more (got {PerplexityBatches})");
        foreach (var (task, k) in Shots)
        {
            if (task != "*") Evaluation.Tasks.HarnessTasks.Get(task);
            if (k < 0) throw new UserError($"shots for {task} must be 0 or more (got {k})");
        }
        if (Tasks.Count > 0 && DataDir is null) throw new UserError("tasks need a task data folder (--data-dir)");
        if (DataDir is null && PerplexityData is null)
            throw new UserError("nothing to evaluate: give a task data folder (--data-dir) or a token file for perplexity");
        SelectedTasks();
        return this;
    }
}
