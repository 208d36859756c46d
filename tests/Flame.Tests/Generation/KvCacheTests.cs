using Flame.Generation;
using Flame.Model;
using Flame.Tests.Interop;
using Flame.Tests.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tests.Generation;

/// <summary>Decoding through the KV cache computes what the full forward computes.</summary>
public class KvCacheTests
{
    static FlameModel Build(ModelConfig config, long seed = 21)
    {
        manual_seed(seed);
        var model = new FlameModel(config);
        model.eval();
        return model;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void IncrementalLogitsEqualTheFullForward(bool moe)
    {
        using var model = Build(moe ? TinyModels.Moe : TinyCheckpoints.Dense);
        manual_seed(4);
        var tokens = randint(0, 100, [2, 20]);
        using var _ = no_grad();
        var full = model.forward(tokens).Logits;

        // A 7-token prompt, then a 5-token chunk (queries that see the cache and each other), then one at a time.
        using var cache = model.NewCache();
        var pieces = new List<Tensor> { model.forward(tokens[.., ..7], cache), model.forward(tokens[.., 7..12], cache) };
        for (int t = 12; t < 20; t++) pieces.Add(model.forward(tokens[.., t..(t + 1)], cache));
        Assert.Equal(20, cache.Length);
        var incremental = cat(pieces, dim: 1);
        double diff = (incremental - full).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"max |incremental - full| = {diff}");
    }

    [Fact]
    public void AnEmptyCacheGivesTheTrainingForwardsLogits()
    {
        using var model = Build(TinyModels.Moe);
        var tokens = randint(0, 100, [1, 9]);
        using var _ = no_grad();
        using var cache = model.NewCache(9);
        Assert.True(model.forward(tokens, cache).allclose(model.forward(tokens).Logits, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GreedyTokensAreIdenticalWithAndWithoutTheCache(bool moe)
    {
        using var model = Build(moe ? TinyModels.Moe : TinyCheckpoints.Dense);
        var generator = new TextGenerator(model, vocabSize: 100, endOfDocumentId: 0);
        var greedy = new GenerationOptions(MaxTokens: 24, Temperature: 0, StopAtEndOfDocument: false);
        var cached = generator.Generate([0, 5, 17, 3], greedy).ToList();
        var uncached = generator.Generate([0, 5, 17, 3], greedy with { UseCache = false }).ToList();
        Assert.Equal(24, cached.Count);
        Assert.Equal(uncached, cached);
        Assert.All(cached, id => Assert.InRange(id, 0, 99)); // never a padding id (100..127)
    }

    [Fact]
    public void SampledTokensFollowTheSeedWithAndWithoutTheCache()
    {
        using var model = Build(TinyModels.Moe);
        var generator = new TextGenerator(model, vocabSize: 100, endOfDocumentId: 0);
        var sampled = new GenerationOptions(MaxTokens: 16, Temperature: 1.0, TopK: 20, TopP: 0.95, Seed: 7, StopAtEndOfDocument: false);
        var a = generator.Generate([0, 1, 2], sampled).ToList();
        Assert.Equal(a, generator.Generate([0, 1, 2], sampled with { UseCache = false }).ToList());
        Assert.Equal(a, generator.Generate([0, 1, 2], sampled).ToList());
        Assert.NotEqual(a, generator.Generate([0, 1, 2], sampled with { Seed = 8 }).ToList());
    }

    [Fact]
    public void GenerationStopsAtEndOfDocumentAndAtTheContextLimit()
    {
        using var model = Build(TinyModels.Moe with { MaxPositions = 16 });
        var greedy = new GenerationOptions(MaxTokens: 100, Temperature: 0, StopAtEndOfDocument: false);
        var first = new TextGenerator(model, 100, 0).Generate([0, 4], greedy).ToList();
        Assert.Equal(14, first.Count); // 2 prompt tokens + 14 = max positions 16
        // Make the first greedy token the end-of-document id: generation ends right after it.
        var stopping = new TextGenerator(model, 100, endOfDocumentId: first[0]).Generate([0, 4], greedy with { StopAtEndOfDocument = true }).ToList();
        Assert.Equal([first[0]], stopping);
    }

    [Fact]
    public void OverfillingTheCacheIsAUserError()
    {
        using var model = Build(TinyModels.Moe);
        using var _ = no_grad();
        using var cache = model.NewCache(4);
        model.forward(randint(0, 100, [1, 3]), cache);
        Assert.Contains("the KV cache holds 4 positions; 3 are used and 2 more were given",
            Assert.Throws<UserError>(() => model.forward(randint(0, 100, [1, 2]), cache)).Message);
        using var big = model.NewCache();
        Assert.Contains("exceeds the model's max positions 64",
            Assert.Throws<UserError>(() => model.forward(randint(0, 100, [1, 65]), big)).Message);
    }
}
