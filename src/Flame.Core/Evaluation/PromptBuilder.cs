using Flame.Evaluation.Tasks;

namespace Flame.Evaluation;

/// <summary>One (context, continuation) pair whose log-likelihood is scored.</summary>
public sealed record ChoiceRequest(string Context, string Continuation);

/// <summary>
/// The harness's plain-text prompts (no chat template, no description): every few-shot example is its
/// question, the target delimiter " ", its correct answer and the few-shot delimiter "\n\n"; the evaluated
/// document follows. An ordinary task scores " " + choice after the shared context; a multiple-input task
/// (WinoGrande) scores " " + the shared continuation after each choice-as-context.
/// </summary>
public static class PromptBuilder
{
    public const string TargetDelimiter = " ";
    public const string FewShotDelimiter = "\n\n";

    /// <summary>A solved example. For multiple inputs the question is the correct partial context and the answer the shared continuation.</summary>
    public static string LabeledExample(EvalDoc doc)
    {
        var (question, answer) = doc.MultipleInputs
            ? (doc.Choices[doc.Gold], doc.SharedContinuation!)
            : (doc.Query!, doc.Choices[doc.Gold]);
        // The harness adds the delimiters only when the answer is not empty.
        return answer.Length == 0 ? question : question + TargetDelimiter + answer + FewShotDelimiter;
    }

    public static string FewShotPrefix(IEnumerable<EvalDoc> shots) => string.Concat(shots.Select(LabeledExample));

    public static IReadOnlyList<ChoiceRequest> Requests(EvalDoc doc, IEnumerable<EvalDoc> shots)
    {
        var prefix = FewShotPrefix(shots);
        return doc.MultipleInputs
            ? doc.Choices.Select(c => new ChoiceRequest(prefix + c, TargetDelimiter + doc.SharedContinuation)).ToList()
            : doc.Choices.Select(c => new ChoiceRequest(prefix + doc.Query, TargetDelimiter + c)).ToList();
    }
}
