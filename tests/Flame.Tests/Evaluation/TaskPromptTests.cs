using Flame.Evaluation;
using Flame.Evaluation.Tasks;
using Flame.Tests.Data;
using static Flame.Tests.Evaluation.EvalFixtures;

namespace Flame.Tests.Evaluation;

/// <summary>Each task's prompts, choices and gold answer built from a row in its public format, as the harness builds them.</summary>
public class TaskPromptTests
{
    static (EvalDoc Doc, IReadOnlyList<ChoiceRequest> Requests) Build(string task, string split, string row)
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, task, split, row);
        var doc = TaskSplit.Load(HarnessTasks.Get(task), dir.Path, split).Docs.Single();
        return (doc, PromptBuilder.Requests(doc, []));
    }

    [Fact]
    public void ArcEasyAsksQuestionAnswerAndScoresEachChoiceAfterASpace()
    {
        var (doc, requests) = Build("arc_easy", "test", ArcRow);
        Assert.Equal(2, doc.Gold);
        const string context = "Question: An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?\nAnswer:";
        Assert.All(requests, r => Assert.Equal(context, r.Context));
        Assert.Equal([" Planetary density will decrease.", " Planetary years will become longer.", " Planetary days will become shorter.", " Planetary gravity will become stronger."],
            requests.Select(r => r.Continuation));
    }

    [Fact]
    public void ArcChallengeFindsNumericAnswerKeysAmongTheLabels()
    {
        var (doc, requests) = Build("arc_challenge", "test", ArcNumericRow);
        Assert.Equal(2, doc.Gold);
        Assert.Equal("Question: Which object is a conductor?\nAnswer:", requests[0].Context);
        Assert.Equal(" copper", requests[2].Continuation);
    }

    [Fact]
    public void OpenBookQaUsesTheBareQuestionStem()
    {
        var (doc, requests) = Build("openbookqa", "test", OpenBookQaRow);
        Assert.Equal(3, doc.Gold);
        Assert.All(requests, r => Assert.Equal("The sun is responsible for", r.Context));
        Assert.Equal(" plants sprouting, blooming and wilting", requests[3].Continuation);
    }

    [Fact]
    public void HellaSwagJoinsActivityAndCapitalisedContext()
    {
        var (doc, requests) = Build("hellaswag", "validation", HellaSwagRow);
        Assert.Equal(3, doc.Gold);
        Assert.Equal("Roof shingle removal: A man is sitting on a roof. He", requests[0].Context);
        Assert.Equal(" starts pulling up roofing on a roof.", requests[3].Continuation);
    }

    [Fact]
    public void HellaSwagCleansWikiHowMarkersLikeTheHarness()
    {
        // Expected strings computed with the harness's preprocess (strip, " [title]" -> ". ", drop [..], one pass of "  " -> " ").
        var (doc, requests) = Build("hellaswag", "validation", HellaSwagWikiHowRow);
        Assert.Equal(0, doc.Gold);
        Assert.Equal("Home and Garden: How to clean a glass shower door. Spray the door with vinegar.", requests[0].Context);
        Assert.Equal([" Let it sit for five minutes.", "Wipe it off. Dry it well.", "Use a squeegee.", "Call a NASA engineer."], doc.Choices);
        Assert.Equal("  Let it sit for five minutes.", requests[0].Continuation);
    }

    [Fact]
    public void HellaSwagCapitalisesLikePythonLowercasingTheRest()
    {
        var (doc, requests) = Build("hellaswag", "validation", HellaSwagCapitalizeRow);
        Assert.Equal("Sailing: A boat sails. The crew waves to the camera", requests[0].Context);
        Assert.Equal(1, doc.Gold);
    }

    [Fact]
    public void PiqaAsksTheGoalAndOffersBothSolutions()
    {
        var (doc, requests) = Build("piqa", "validation", PiqaRow);
        Assert.Equal(1, doc.Gold);
        Assert.Equal("Question: When boiling butter, when it's ready, you can\nAnswer:", requests[0].Context);
        Assert.Equal([" Pour it onto a plate", " Pour it into a jar"], requests.Select(r => r.Continuation));
    }

    [Fact]
    public void WinoGrandeScoresThePartialSentenceAfterEachOption()
    {
        var (doc, requests) = Build("winogrande", "validation", WinoGrandeRow);
        Assert.Equal(0, doc.Gold);
        Assert.Equal(["Sarah was a much better surgeon than Maria so Sarah", "Sarah was a much better surgeon than Maria so Maria"], requests.Select(r => r.Context));
        Assert.All(requests, r => Assert.Equal(" always got the harder cases.", r.Continuation));
        // As a few-shot example the correct partial context is the question and the rest of the sentence the answer.
        Assert.Equal("Sarah was a much better surgeon than Maria so Sarah always got the harder cases.\n\n", PromptBuilder.LabeledExample(doc));
    }

    [Fact]
    public void FewShotExamplesPrecedeTheQuestionWithTheHarnessDelimiters()
    {
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "piqa", "train", PiqaTrainRow(0), PiqaTrainRow(1));
        var train = TaskSplit.Load(HarnessTasks.Get("piqa"), dir.Path, "train").Docs;
        WriteSplit(dir.Path, "piqa", "validation", PiqaRow);
        var doc = TaskSplit.Load(HarnessTasks.Get("piqa"), dir.Path, "validation").Docs[0];
        var requests = PromptBuilder.Requests(doc, [train[1], train[0]]);
        Assert.Equal("Question: goal 1\nAnswer: right 1\n\nQuestion: goal 0\nAnswer: right 0\n\nQuestion: When boiling butter, when it's ready, you can\nAnswer:",
            requests[0].Context);
        Assert.Equal(" Pour it onto a plate", requests[0].Continuation);
    }

    [Fact]
    public void ParquetRowsWithNestedChoicesReadLikeTheJsonRelease()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("ARC-Easy"));
        // Hugging Face's shard naming, in the dataset's own config folder; choices is a struct of two lists as in the
        // release (lower-case column names as in ai2_arc), written by another Parquet writer (DuckDB).
        DuckDb.Query($$"""
            COPY (SELECT 'q1' AS id, 'Which object is a conductor?' AS question,
                         {'text': ['wood', 'copper'], 'label': ['A', 'B']} AS choices, 'B' AS answerKey)
            TO {{DuckDb.Literal(dir.File("ARC-Easy/test-00000-of-00001.parquet"))}} (FORMAT parquet)
            """);
        var doc = TaskSplit.Load(HarnessTasks.Get("arc_easy"), dir.Path, "test").Docs.Single();
        Assert.Equal(1, doc.Gold);
        Assert.Equal(["wood", "copper"], doc.Choices);
        Assert.Equal("Question: Which object is a conductor?\nAnswer:", doc.Query);
    }
}
