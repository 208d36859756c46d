using Flame.Evaluation;
using Flame.Evaluation.Tasks;
using Flame.Tests.Data;
using static Flame.Tests.Evaluation.EvalFixtures;

namespace Flame.Tests.Evaluation;

/// <summary>Missing task files, rows with missing fields and impossible settings fail or are counted, with messages that say what to fix.</summary>
public class BadInputTests
{
    [Fact]
    public void AMissingTaskFileNamesTheFileTheFolderAndTheFields()
    {
        using var dir = new TempFolder();
        var error = Assert.Throws<UserError>(() => TaskSplit.Load(HarnessTasks.Get("piqa"), dir.Path, "validation"));
        Assert.Contains(Path.Combine(dir.Path, "piqa", "validation") + ".jsonl", error.Message);
        Assert.Contains($"in folder {dir.Path}", error.Message);
        Assert.Contains("goal, sol1, sol2, label", error.Message);
    }

    [Fact]
    public void RowsWithMissingFieldsOrBadJsonAreCountedAndSkipped()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "piqa", "validation",
            PiqaRow,
            """{"goal": "no second solution", "sol1": "x", "label": 0}""",
            """{"goal": "cut off""",
            """{"goal": "label out of range", "sol1": "x", "sol2": "y", "label": 2}""",
            "",
            PiqaRow);
        var split = TaskSplit.Load(HarnessTasks.Get("piqa"), dir.Path, "validation");
        Assert.Equal(2, split.Docs.Count);
        Assert.Equal(3, split.BadRows);
        Assert.Contains("validation.jsonl row 2: missing field \"sol2\"", split.BadRowExamples[0]);
        Assert.Contains("row 3: malformed JSON", split.BadRowExamples[1]);
        Assert.Contains("row 4: label does not name one of the 2 choices", split.BadRowExamples[2]);
    }

    [Fact]
    public void WinoGrandeWithoutABlankAndArcWithAnUnknownAnswerKeyAreBadRows()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "winogrande", "validation", WinoGrandeRow, """{"sentence": "No blank here.", "option1": "a", "option2": "b", "answer": "1"}""");
        Assert.Equal(1, TaskSplit.Load(HarnessTasks.Get("winogrande"), dir.Path, "validation").BadRows);
        WriteSplit(dir.Path, "arc_easy", "test", ArcRow, ArcRow.Replace("\"answerKey\": \"C\"", "\"answerKey\": \"E\""));
        var arc = TaskSplit.Load(HarnessTasks.Get("arc_easy"), dir.Path, "test");
        Assert.Equal(1, arc.BadRows);
        Assert.Contains("answerKey \"E\"", arc.BadRowExamples[0]);
    }

    [Fact]
    public void AFileWithNoUsableRowIsAnError()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "piqa", "validation", """{"goal": "x"}""");
        var error = Assert.Throws<UserError>(() => TaskSplit.Load(HarnessTasks.Get("piqa"), dir.Path, "validation"));
        Assert.Contains("no usable rows", error.Message);
        Assert.Contains("missing field \"sol1\"", error.Message);
    }

    [Fact]
    public void OptionsThatCannotWorkAreRejected()
    {
        Assert.Contains("unknown task 'squad'", Assert.Throws<UserError>(() => new EvalOptions { DataDir = "x", Tasks = ["squad"] }.Validate()).Message);
        Assert.Contains("nothing to evaluate", Assert.Throws<UserError>(() => new EvalOptions().Validate()).Message);
        Assert.Contains("--data-dir", Assert.Throws<UserError>(() => new EvalOptions { Tasks = ["piqa"], PerplexityData = ["p"] }.Validate()).Message);
        Assert.Contains("--limit", Assert.Throws<UserError>(() => new EvalOptions { DataDir = "x", Limit = 0 }.Validate()).Message);
    }

    [Fact]
    public void MoreShotsThanTrainingRowsIsAnErrorBeforeTheModelLoads()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "piqa", "validation", PiqaRow);
        WriteSplit(dir.Path, "piqa", "train", PiqaTrainRow(0), PiqaTrainRow(1));
        var options = new EvalOptions { DataDir = dir.Path, Tasks = ["piqa"], Shots = new Dictionary<string, int> { ["piqa"] = 3 }, Device = "cpu" };
        var error = Assert.Throws<UserError>(() => Evaluator.EvaluateCheckpoint(dir.File("no-such-checkpoint"), options));
        Assert.Contains("3-shot needs 4 training rows (the harness draws one more", error.Message);   // PIQA has no test split
    }
}
