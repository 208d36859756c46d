using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tests.Model;

public class ModelBehaviourTests
{
    [Fact]
    public void ChangingAFutureTokenNeverChangesPastLogits()
    {
        manual_seed(7);
        using var model = new FlameModel(TinyModels.Moe);
        model.eval();
        var tokens = randint(0, 100, [2, 16]);
        var changed = tokens.clone();
        changed[.., 10] = (changed[.., 10] + 1) % 100;
        using var _ = no_grad();
        var a = model.forward(tokens).Logits;
        var b = model.forward(changed).Logits;
        Assert.True(a[.., ..10].allclose(b[.., ..10], rtol: 0, atol: 1e-6), "positions before the change moved");
        Assert.False(a[.., 10..].allclose(b[.., 10..], rtol: 0, atol: 1e-6), "the changed position had no effect");
    }

    [Fact]
    public void RouteGivesTheForwardsRoutingWithoutTheLayersAfterTheLastMoeLayer()
    {
        manual_seed(5);
        // A dense last layer too, so Route really stops early.
        using var model = new FlameModel(TinyModels.Moe with { Layers = 4, DenseLayers = [0, 3] });
        var tokens = randint(0, 100, [2, 16]);
        using var _ = no_grad();
        var full = model.forward(tokens).Moe;
        var routed = model.Route(tokens);
        Assert.Equal(2, routed.Count);
        for (int l = 0; l < routed.Count; l++)
        {
            Assert.True(routed[l].Routing.Indices.equal(full[l].Routing.Indices).all().item<bool>(), $"MoE layer {l}: indices differ");
            Assert.True(routed[l].Routing.Gates.equal(full[l].Routing.Gates).all().item<bool>(), $"MoE layer {l}: gates differ");
        }
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsAndLogits()
    {
        Tensor Run()
        {
            manual_seed(1234);
            using var model = new FlameModel(TinyModels.Moe);
            manual_seed(99);
            var tokens = randint(0, 100, [2, 8]);
            using var _ = no_grad();
            return model.forward(tokens).Logits.clone();
        }
        Assert.True(Run().equal(Run()).all().item<bool>());
    }

    [Fact]
    public void EveryParameterReceivesAGradient()
    {
        manual_seed(3);
        using var model = new FlameModel(TinyModels.Moe);
        var tokens = randint(0, 100, [4, 32]); // 128 tokens x 2 slots over 8 experts: every expert is used
        var output = model.forward(tokens[.., ..^1]);
        var loss = FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]) + output.LoadBalancingLoss + output.ZLoss;
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.True(p.grad is not null, $"{name} has no gradient");
            if (name == "embedding" || name == "output")
                Assert.True(p.grad!.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
            else
                Assert.True(p.grad!.abs().max().item<float>() > 0, $"{name} has an all-zero gradient");
        }
        // Every routed expert's own slice of the stacked weights must receive gradient.
        foreach (var moe in model.MoeLayers)
        {
            var perExpert = moe.experts.gate_up.grad!.abs().sum([1, 2]);
            Assert.True(perExpert.gt(0).all().item<bool>(), "an expert got no gradient");
        }
    }

    [Fact]
    public void InitialisationFollowsTheSpec()
    {
        manual_seed(5);
        var config = TinyModels.Moe with { Hidden = 256, Heads = 4, ExpertFfn = 256, DenseFfn = 512, SharedExpertFfn = 512 };
        using var model = new FlameModel(config);
        double outStd = 0.02 / Math.Sqrt(2 * config.Layers);
        foreach (var (name, p) in model.named_parameters())
        {
            double std = p.std().item<float>();
            if (name.EndsWith("norm.weight")) Assert.True(p.eq(1).all().item<bool>(), name);
            else if (name.EndsWith("attention.proj") || name.EndsWith(".down")) Assert.InRange(std, outStd * 0.9, outStd * 1.1);
            else Assert.InRange(std, 0.018, 0.022);
        }
    }

    [Fact]
    public void ImpossibleConfigsAreRejectedWithTheReason()
    {
        var tooManyK = Assert.Throws<UserError>(() => (TinyModels.Moe with { TopK = 9 }).Validate());
        Assert.Contains("top-k 9", tooManyK.Message);
        var heads = Assert.Throws<UserError>(() => (TinyModels.Moe with { Heads = 5 }).Validate());
        Assert.Contains("not divisible by heads 5", heads.Message);
        var layer = Assert.Throws<UserError>(() => (TinyModels.Moe with { DenseLayers = [3] }).Validate());
        Assert.Contains("dense layer index 3 is out of range", layer.Message);
        var preset = Assert.Throws<UserError>(() => ModelPresets.Get("flame-moe-9000m"));
        Assert.Contains("flame-moe-290m", preset.Message);
    }
}
