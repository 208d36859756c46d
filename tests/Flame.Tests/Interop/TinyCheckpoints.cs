using Flame.Checkpointing;
using Flame.Model;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Interop;

/// <summary>A run folder with one checkpoint of a tiny model (random weights, demo tokenizer), as the trainer leaves it.</summary>
public static class TinyCheckpoints
{
    public static readonly ModelConfig Dense = new()
    {
        Name = "tiny-dense", Layers = 2, Hidden = 32, Heads = 4, DenseFfn = 48,
        Experts = 0, TopK = 0, ExpertFfn = 0, SharedExpertFfn = 0, DenseLayers = [0, 1],
        VocabSize = 100, VocabMultiple = 128, MaxPositions = 64,
    };

    public static string Create(string runFolder, ModelConfig config, long seed = 11, long step = 6)
    {
        manual_seed(seed);
        using var model = new FlameModel(config);
        // Norm weights start at 1; perturb them so a mapping that misplaced one would show.
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("norm.weight")) p.add_(randn_like(p) * 0.1);
        new CheckpointStore(runFolder).Save(step, "{}", folder =>
        {
            model.save(Path.Combine(folder, Checkpoint.ModelFile));
            ModelConfigJson.Write(folder, config);
        });
        File.WriteAllText(Path.Combine(runFolder, "tokenizer.txt"), "demo");
        return runFolder;
    }

    /// <summary>Every parameter of two models, by name, equal bit for bit.</summary>
    public static void AssertSameWeights(FlameModel expected, FlameModel actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, tensor) in a)
            Assert.True(tensor.equal(b[name]).all().item<bool>(), $"{name} differs");
    }
}
