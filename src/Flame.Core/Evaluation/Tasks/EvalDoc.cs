namespace Flame.Evaluation.Tasks;

/// <summary>
/// One multiple-choice document as the harness sees it after the task's doc_to_text, doc_to_choice and
/// doc_to_target. Ordinary tasks put each choice in the continuation after <see cref="Query"/>; tasks with
/// multiple inputs (WinoGrande's partial scoring) put each choice in the context and score the same
/// <see cref="SharedContinuation"/> after each.
/// </summary>
public sealed record EvalDoc
{
    /// <summary>doc_to_text; null for multiple-input tasks.</summary>
    public string? Query { get; init; }
    /// <summary>doc_to_choice: answers (ordinary) or partial contexts (multiple inputs).</summary>
    public required IReadOnlyList<string> Choices { get; init; }
    /// <summary>Index of the correct choice.</summary>
    public required int Gold { get; init; }
    /// <summary>doc_to_target of a multiple-input task: the text after the blank, scored after every context.</summary>
    public string? SharedContinuation { get; init; }

    /// <summary>The dataset row the document was read from (its identity when the harness compares documents); null when built by hand.</summary>
    public System.Text.Json.Nodes.JsonObject? Row { get; init; }

    public bool MultipleInputs => SharedContinuation is not null;
}

/// <summary>A row that lacks a field the task needs (or holds an unusable value); counted and skipped.</summary>
public sealed class BadRowException(string reason) : Exception(reason);
