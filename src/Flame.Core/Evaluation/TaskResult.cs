namespace Flame.Evaluation;

/// <summary>
/// One task's outcome, written as eval/&lt;task&gt;.json. <see cref="AccNormDefined"/> is false for WinoGrande,
/// where the harness reports only acc: there acc_norm repeats acc so both averages run over the same tasks.
/// </summary>
public sealed record TaskResult
{
    public required string Task { get; init; }
    public required int NumFewshot { get; init; }
    public required int N { get; init; }
    public required double Acc { get; init; }
    public required double AccStderr { get; init; }
    public required double AccNorm { get; init; }
    public required double AccNormStderr { get; init; }
    public required bool AccNormDefined { get; init; }
    public required long CheckpointStep { get; init; }
    public required string Split { get; init; }
    public required IReadOnlyList<string> Files { get; init; }
    /// <summary>Rows of the evaluated split skipped for a missing or unusable field.</summary>
    public required int SkippedRows { get; init; }
    public required IReadOnlyList<string> SkippedRowExamples { get; init; }
    /// <summary>Rows of the training split (few-shot pool) skipped likewise; 0 when no shots were drawn.</summary>
    public required int SkippedTrainRows { get; init; }
    public required int Requests { get; init; }
    /// <summary>Requests whose context + continuation exceeded the model's window and lost tokens on the left.</summary>
    public required int TruncatedRequests { get; init; }
    public required int Window { get; init; }
    public required long FewshotSeed { get; init; }
    public required double Seconds { get; init; }
    public required double ChoicesPerSecond { get; init; }
    /// <summary>The first document's first scored pair, to check the prompt by eye.</summary>
    public required string ExampleContext { get; init; }
    public required string ExampleContinuation { get; init; }
    /// <summary>Every document's requests and scores when --log-samples asked for them (written to samples_&lt;task&gt;.jsonl, not here).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<DocumentSample>? Samples { get; init; }
}

/// <summary>A task's line in eval/summary.json (the schema the run report renders).</summary>
public sealed record TaskScore(string Task, int NumFewshot, int N, double Acc, double AccStderr, double AccNorm, double AccNormStderr)
{
    public static TaskScore From(TaskResult r) => new(r.Task, r.NumFewshot, r.N, r.Acc, r.AccStderr, r.AccNorm, r.AccNormStderr);
}

/// <summary>Validation perplexity of a checkpoint on a held-out token file (eval/perplexity.json).</summary>
public sealed record PerplexityResult(string Data, string Split, int Sequence, long Samples, long Tokens, double Loss, double Perplexity, long CheckpointStep);

/// <summary>
/// eval/summary.json: the checkpoint's step, one entry per task, and the averages over the tasks as FLAME-MoE
/// reports them (the plain mean over tasks; null when no task ran). Perplexity appears when it was measured.
/// </summary>
public sealed record EvalSummary
{
    public required long CheckpointStep { get; init; }
    public required IReadOnlyList<TaskScore> Tasks { get; init; }
    public double? AverageAcc { get; init; }
    public double? AverageAccNorm { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public PerplexityResult? Perplexity { get; init; }

    public static EvalSummary Of(long step, IReadOnlyList<TaskResult> results, PerplexityResult? perplexity) => new()
    {
        CheckpointStep = step,
        Tasks = results.Select(TaskScore.From).ToList(),
        AverageAcc = results.Count == 0 ? null : results.Average(r => r.Acc),
        AverageAccNorm = results.Count == 0 ? null : results.Average(r => r.AccNorm),
        Perplexity = perplexity,
    };
}

/// <summary>How far an evaluation is: <paramref name="Done"/> of <paramref name="Total"/> choices (or batches for perplexity) of one stage.</summary>
public readonly record struct EvalProgress(string Stage, long Done, long Total);
