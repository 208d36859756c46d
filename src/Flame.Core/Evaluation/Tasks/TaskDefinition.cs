using System.Text.Json.Nodes;

namespace Flame.Evaluation.Tasks;

/// <summary>
/// One of FLAME-MoE's downstream tasks (spec §4) as lm-evaluation-harness defines it: where its rows come
/// from (a public Hugging Face dataset's fields), which split it is scored on, which split few-shot examples
/// come from, FLAME-MoE's number of shots, whether the harness reports acc_norm for it, and how a row becomes
/// an <see cref="EvalDoc"/>.
/// </summary>
public sealed record TaskDefinition(
    string Name,
    string Dataset,
    IReadOnlyList<string> Folders,
    string EvalSplit,
    string TrainSplit,
    int DefaultShots,
    bool HasAccNorm,
    IReadOnlyList<string> Fields,
    Func<JsonObject, EvalDoc> Parse)
{
    /// <summary>
    /// Whether the harness draws one extra few-shot example and drops the evaluated document (samplers.py:
    /// fewshot_split == test_split). None of the six tasks sets fewshot_split, so this holds exactly for the
    /// tasks whose YAML has no test split, the ones scored on validation (PIQA, HellaSwag, WinoGrande).
    /// </summary>
    public bool DrawsExtraShot => EvalSplit != "test";

    /// <summary>The dataset's repository name on Hugging Face (ai2_arc, hellaswag, ...): a folder name users download it as.</summary>
    public required string Repository { get; init; }
}
