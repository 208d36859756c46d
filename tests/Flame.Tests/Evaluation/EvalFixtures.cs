using Flame.Checkpointing;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tests.Evaluation;

/// <summary>
/// Rows in each dataset's public Hugging Face format (the .jsonl form of the release), and tiny models whose
/// next-token probabilities are known by construction.
/// </summary>
public static class EvalFixtures
{
    public const string ArcRow = """{"id": "Mercury_7175875", "question": "An astronomer observes that a planet rotates faster after a meteorite impact. Which is the most likely effect of this increase in rotation?", "choices": {"text": ["Planetary density will decrease.", "Planetary years will become longer.", "Planetary days will become shorter.", "Planetary gravity will become stronger."], "label": ["A", "B", "C", "D"]}, "answerKey": "C"}""";
    public const string ArcNumericRow = """{"id": "NYSEDREGENTS_2015_4_8", "question": "Which object is a conductor?", "choices": {"text": ["wood", "plastic", "copper"], "label": ["1", "2", "3"]}, "answerKey": "3"}""";
    public const string OpenBookQaRow = """{"id": "7-980", "question_stem": "The sun is responsible for", "choices": {"text": ["puppies learning new tricks", "children growing up and getting old", "flowers wilting in a vase", "plants sprouting, blooming and wilting"], "label": ["A", "B", "C", "D"]}, "answerKey": "D"}""";
    public const string HellaSwagRow = """{"ind": 24, "activity_label": "Roof shingle removal", "ctx_a": "A man is sitting on a roof.", "ctx_b": "he", "ctx": "A man is sitting on a roof. he", "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.", "is holding a rubik's cube.", "starts pulling up roofing on a roof."], "source_id": "activitynet~v_-JhWjGDPHMY", "split": "val", "split_type": "indomain", "label": "3"}""";
    public const string HellaSwagWikiHowRow = """{"ind": 4, "activity_label": "Home and Garden", "ctx_a": "[header] How to clean a glass shower door [title] Spray the door with vinegar.", "ctx_b": "", "ctx": "", "endings": ["[step] Let it sit for five minutes.", "Wipe it off [title] Dry it  well.", "Use a squeegee.", " Call a NASA engineer. "], "source_id": "wikihow~1", "split": "val", "split_type": "zeroshot", "label": "0"}""";
    public const string HellaSwagCapitalizeRow = """{"ind": 7, "activity_label": "Sailing", "ctx_a": "A boat sails.", "ctx_b": "the CREW waves To the Camera", "ctx": "", "endings": ["a", "b"], "source_id": "x", "split": "val", "split_type": "indomain", "label": "1"}""";
    public const string PiqaRow = """{"goal": "When boiling butter, when it's ready, you can", "sol1": "Pour it onto a plate", "sol2": "Pour it into a jar", "label": 1}""";
    public const string WinoGrandeRow = """{"sentence": "Sarah was a much better surgeon than Maria so _ always got the harder cases.", "option1": "Sarah", "option2": "Maria", "answer": "1"}""";

    /// <summary>Writes rows as DIR/task/split.jsonl.</summary>
    public static void WriteSplit(string dataDir, string task, string split, params string[] rows)
    {
        Directory.CreateDirectory(Path.Combine(dataDir, task));
        File.WriteAllLines(Path.Combine(dataDir, task, $"{split}.jsonl"), rows);
    }

    /// <summary>A PIQA-format training row whose answer is easy to spot in a prompt.</summary>
    public static string PiqaTrainRow(int i) => $$"""{"goal": "goal {{i}}", "sol1": "wrong {{i}}", "sol2": "right {{i}}", "label": 1}""";

    /// <summary>A tiny MoE whose vocabulary covers the demo tokenizer (8192) and is padded past it: 8193 -> 8320 rows.</summary>
    public static ModelConfig TinyConfig(int maxPositions = 64) => new()
    {
        Name = "tiny-eval", Layers = 2, Hidden = 32, Heads = 4, DenseFfn = 48,
        Experts = 4, TopK = 2, ExpertFfn = 16, SharedExpertFfn = 32, DenseLayers = [0],
        VocabSize = 8193, VocabMultiple = 128, MaxPositions = maxPositions,
    };

    /// <summary>Random initialisation from seed 7 (a model that actually uses context).</summary>
    public static FlameModel RandomModel(int maxPositions = 64)
    {
        torch.manual_seed(7);
        var model = new FlameModel(TinyConfig(maxPositions));
        model.eval();
        return model;
    }

    /// <summary>
    /// Every weight zero except: all embeddings equal (ones), the final norm's weight one, and column 0 of the
    /// output layer = <paramref name="logit"/>(v). Blocks then add nothing (zero projections), the final norm of
    /// a ones vector is ones (up to eps 1e-6), so the logits at every position are exactly logit(v): the
    /// next-token distribution is softmax(logit) whatever the context. With logit = 0 it is uniform over
    /// every row of the output layer, padded rows included.
    /// </summary>
    public static FlameModel KnownModel(Func<int, float> logit, int maxPositions = 64)
    {
        var model = RandomModel(maxPositions);
        using var noGrad = torch.no_grad();
        foreach (var p in model.parameters()) p.zero_();
        model.embedding.fill_(1.0f);
        model.final_norm.weight.fill_(1.0f);
        var column = Enumerable.Range(0, model.Config.PaddedVocab).Select(logit).ToArray();
        model.output[.., 0].copy_(tensor(column));
        return model;
    }

    public static FlameModel UniformModel(int maxPositions = 64) => KnownModel(_ => 0f, maxPositions);

    /// <summary>Saves a model as RUN/checkpoints/iter_NNNNNNN (no tokenizer file: the demo tokenizer is assumed).</summary>
    public static string SaveCheckpoint(FlameModel model, string runDir, long step)
    {
        var config = model.Config;
        return new CheckpointStore(runDir).Save(step, "{}", folder =>
        {
            model.save(Path.Combine(folder, Checkpoint.ModelFile));
            ModelConfigJson.Write(folder, config);
        });
    }
}
