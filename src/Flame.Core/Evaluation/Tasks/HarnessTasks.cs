using System.Text.Json.Nodes;
using static Flame.Evaluation.Tasks.RowFields;

namespace Flame.Evaluation.Tasks;

/// <summary>
/// The six tasks of spec §4, each built the way lm-evaluation-harness's task YAML and utils build it
/// (prompt, choices, target), read from the public Hugging Face release's fields. FLAME-MoE's shots:
/// 10 for ARC-Easy, ARC-Challenge, PIQA and HellaSwag; 0 for OpenBookQA and WinoGrande.
/// </summary>
public static class HarnessTasks
{
    /// <summary>arc_easy.yaml / arc_challenge.yaml: "Question: {question}\nAnswer:", choices.text, index of answerKey in choices.label.</summary>
    static EvalDoc Arc(JsonObject row)
    {
        var texts = TextList(row, "choices", "text");
        var labels = TextList(row, "choices", "label");
        var answer = Text(row, "answerKey");
        int gold = Gold(IndexOf(labels, answer), texts.Count, $"answerKey \"{answer}\"");
        return new EvalDoc { Query = $"Question: {Text(row, "question")}\nAnswer:", Choices = texts, Gold = gold };
    }

    /// <summary>openbookqa.yaml: the bare question_stem, choices.text, index of answerKey.lstrip() in choices.label.</summary>
    static EvalDoc OpenBookQa(JsonObject row)
    {
        var texts = TextList(row, "choices", "text");
        var labels = TextList(row, "choices", "label");
        var answer = Text(row, "answerKey").TrimStart();
        int gold = Gold(IndexOf(labels, answer), texts.Count, $"answerKey \"{answer}\"");
        return new EvalDoc { Query = Text(row, "question_stem"), Choices = texts, Gold = gold };
    }

    /// <summary>hellaswag utils.process_docs: query = preprocess(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()), endings preprocessed, gold = int(label).</summary>
    static EvalDoc HellaSwag(JsonObject row)
    {
        var context = Text(row, "ctx_a") + " " + HellaSwagText.Capitalize(Text(row, "ctx_b"));
        var endings = TextList(row, "endings").Select(HellaSwagText.Preprocess).ToList();
        return new EvalDoc
        {
            Query = HellaSwagText.Preprocess(Text(row, "activity_label") + ": " + context),
            Choices = endings,
            Gold = Gold(Integer(row, "label"), endings.Count, "label"),
        };
    }

    /// <summary>piqa.yaml: "Question: {goal}\nAnswer:", [sol1, sol2], label.</summary>
    static EvalDoc Piqa(JsonObject row) => new()
    {
        Query = $"Question: {Text(row, "goal")}\nAnswer:",
        Choices = [Text(row, "sol1"), Text(row, "sol2")],
        Gold = Gold(Integer(row, "label"), 2, "label"),
    };

    /// <summary>
    /// winogrande preprocess: partial scoring (Trinh and Le, 2018). Each option replaces the blank "_" and
    /// the sentence is cut there (the contexts); the text after the blank, stripped, is the continuation
    /// scored after each. answer "1"/"2" picks the option.
    /// </summary>
    static EvalDoc WinoGrande(JsonObject row)
    {
        var sentence = Text(row, "sentence");
        int blank = sentence.IndexOf('_');
        if (blank < 0) throw new BadRowException("field \"sentence\" has no blank \"_\"");
        var answer = Text(row, "answer").Trim();
        int gold = answer switch { "1" => 0, "2" => 1, _ => throw new BadRowException($"answer \"{answer}\" is not \"1\" or \"2\"") };
        var before = sentence[..blank];
        return new EvalDoc
        {
            Choices = [before + Text(row, "option1"), before + Text(row, "option2")],
            Gold = gold,
            SharedContinuation = sentence[(blank + 1)..].Trim(),
        };
    }

    static int IndexOf(IReadOnlyList<string> labels, string answer)
    {
        for (int i = 0; i < labels.Count; i++) if (labels[i] == answer) return i;
        return -1;
    }

    static readonly string[] ArcFields = ["question", "choices.text", "choices.label", "answerKey"];

    public static readonly IReadOnlyList<TaskDefinition> All =
    [
        new("arc_easy", "allenai/ai2_arc (ARC-Easy)", ["arc_easy", "ARC-Easy"], "test", "train", 10, true, ArcFields, Arc) { Repository = "ai2_arc" },
        new("arc_challenge", "allenai/ai2_arc (ARC-Challenge)", ["arc_challenge", "ARC-Challenge"], "test", "train", 10, true, ArcFields, Arc) { Repository = "ai2_arc" },
        new("openbookqa", "allenai/openbookqa (main)", ["openbookqa", "main"], "test", "train", 0, true,
            ["question_stem", "choices.text", "choices.label", "answerKey"], OpenBookQa) { Repository = "openbookqa" },
        new("hellaswag", "Rowan/hellaswag", ["hellaswag"], "validation", "train", 10, true,
            ["activity_label", "ctx_a", "ctx_b", "endings", "label"], HellaSwag) { Repository = "hellaswag" },
        new("piqa", "ybisk/piqa", ["piqa"], "validation", "train", 10, true, ["goal", "sol1", "sol2", "label"], Piqa) { Repository = "piqa" },
        // The harness lists only acc for WinoGrande: its "choices" are contexts, so a length norm means nothing.
        new("winogrande", "allenai/winogrande (winogrande_xl)", ["winogrande", "winogrande_xl"], "validation", "train", 0, false,
            ["sentence", "option1", "option2", "answer"], WinoGrande) { Repository = "winogrande" },
    ];

    public static IReadOnlyList<string> Names => All.Select(t => t.Name).ToList();

    public static TaskDefinition Get(string name) =>
        All.FirstOrDefault(t => t.Name == name.Trim().ToLowerInvariant())
        ?? throw new UserError($"unknown task '{name}'; valid tasks: {string.Join(", ", Names)}");
}
