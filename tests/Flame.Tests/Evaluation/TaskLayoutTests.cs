using Flame.Evaluation.Tasks;
using Flame.Tests.Data;
using static Flame.Tests.Evaluation.EvalFixtures;

namespace Flame.Tests.Evaluation;

/// <summary>
/// Task folders as users download them, found without renaming, their Parquet files written by another library
/// (DuckDB) with the columns of each Hugging Face release.
/// </summary>
public class TaskLayoutTests
{
    static void Parquet(string path, string select)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        DuckDb.Query($"COPY ({select}) TO {DuckDb.Literal(path)} (FORMAT parquet)");
    }

    const string HellaSwagSelect = """
        SELECT 24 AS ind, 'Roof shingle removal' AS activity_label, 'A man is sitting on a roof.' AS ctx_a, 'he' AS ctx_b,
               'A man is sitting on a roof. he' AS ctx, ['is using wrap.', 'is ripping level tiles off.', 'is holding a cube.', 'starts pulling up roofing.'] AS endings,
               'activitynet~v_-JhWjGDPHMY' AS source_id, 'val' AS split, 'indomain' AS split_type, '3' AS label
        """;

    [Fact]
    public void RowanHellaSwagsDataFolderIsFound()
    {
        using var dir = new TempFolder();
        // huggingface-cli download Rowan/hellaswag --repo-type dataset --local-dir DATA/hellaswag
        var file = dir.File("hellaswag/data/validation-00000-of-00001.parquet");
        Parquet(file, HellaSwagSelect);
        var split = TaskSplit.Load(HarnessTasks.Get("hellaswag"), dir.Path, "validation");
        Assert.Equal([file], split.Files);
        var doc = split.Docs.Single();
        Assert.Equal("Roof shingle removal: A man is sitting on a roof. He", doc.Query);
        Assert.Equal(3, doc.Gold);
    }

    [Fact]
    public void BaberPiqasFileNamesAreFound()
    {
        using var dir = new TempFolder();
        // baber/piqa names its files piqa_<split>.parquet; the label is an integer column.
        var validation = dir.File("piqa/piqa_validation.parquet");
        Parquet(validation, "SELECT 'Open a jar' AS goal, 'Twist the lid' AS sol1, 'Hit the jar' AS sol2, 0::BIGINT AS label");
        Parquet(dir.File("piqa/piqa_train.parquet"), "SELECT 'g' || i AS goal, 'a' AS sol1, 'b' AS sol2, 1::BIGINT AS label FROM range(3) t(i)");
        var piqa = HarnessTasks.Get("piqa");
        var split = TaskSplit.Load(piqa, dir.Path, "validation");
        Assert.Equal([validation], split.Files);
        Assert.Equal(("Question: Open a jar\nAnswer:", 0), (split.Docs[0].Query, split.Docs[0].Gold));
        Assert.Equal(3, TaskSplit.Load(piqa, dir.Path, "train").Docs.Count);
    }

    [Fact]
    public void HuggingFacesConvertedParquetLayoutIsFoundPerConfig()
    {
        using var dir = new TempFolder();
        // huggingface-cli download allenai/ai2_arc --repo-type dataset --revision refs/convert/parquet --local-dir DATA/ai2_arc
        var easy = dir.File("ai2_arc/ARC-Easy/test/0000.parquet");
        var challenge = dir.File("ai2_arc/ARC-Challenge/test/0000.parquet");
        Parquet(easy, "SELECT 'e1' AS id, 'Easy question?' AS question, {'text': ['x', 'y'], 'label': ['A', 'B']} AS choices, 'A' AS answerKey");
        Parquet(challenge, "SELECT 'c1' AS id, 'Hard question?' AS question, {'text': ['x', 'y'], 'label': ['A', 'B']} AS choices, 'B' AS answerKey");
        var easySplit = TaskSplit.Load(HarnessTasks.Get("arc_easy"), dir.Path, "test");
        var challengeSplit = TaskSplit.Load(HarnessTasks.Get("arc_challenge"), dir.Path, "test");
        Assert.Equal([easy], easySplit.Files);
        Assert.Equal("Question: Easy question?\nAnswer:", easySplit.Docs.Single().Query);
        Assert.Equal([challenge], challengeSplit.Files);
        Assert.Equal(("Question: Hard question?\nAnswer:", 1), (challengeSplit.Docs.Single().Query, challengeSplit.Docs.Single().Gold));

        // Single-config datasets sit under default/ (hellaswag) and, for WinoGrande, the config's own name.
        Parquet(dir.File("hellaswag/default/validation/0000.parquet"), HellaSwagSelect);
        Assert.Single(TaskSplit.Load(HarnessTasks.Get("hellaswag"), dir.Path, "validation").Docs);
        var wino = dir.File("winogrande/winogrande_xl/validation/0000.parquet");
        Parquet(wino, "SELECT 'Sarah beat Maria so _ won.' AS sentence, 'Sarah' AS option1, 'Maria' AS option2, '1' AS answer");
        var winoSplit = TaskSplit.Load(HarnessTasks.Get("winogrande"), dir.Path, "validation");
        Assert.Equal([wino], winoSplit.Files);
        Assert.Equal(["Sarah beat Maria so Sarah", "Sarah beat Maria so Maria"], winoSplit.Docs.Single().Choices);
    }

    [Fact]
    public void TheOriginalHellaSwagReleaseNamesItsValidationSplitVal()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("hellaswag"));
        File.WriteAllLines(dir.File("hellaswag/hellaswag_val.jsonl"), [HellaSwagRow]);
        Assert.Equal([dir.File("hellaswag/hellaswag_val.jsonl")], TaskSplit.Load(HarnessTasks.Get("hellaswag"), dir.Path, "validation").Files);
    }

    [Fact]
    public void AMissingSplitNamesTheLayoutsItLookedFor()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("ai2_arc/ARC-Easy/test"));
        var error = Assert.Throws<UserError>(() => TaskSplit.Load(HarnessTasks.Get("arc_challenge"), dir.Path, "test"));
        Assert.Contains("no test split", error.Message);
        Assert.Contains("<config>/test/0000.parquet", error.Message);
        Assert.Contains("ai2_arc", error.Message);
    }
}
