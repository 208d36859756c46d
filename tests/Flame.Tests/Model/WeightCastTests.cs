using Flame.Model;
using Flame.Optimization;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Model;

/// <summary>Casting bf16 weights once per step (WeightCasts) computes exactly what casting per op did.</summary>
public class WeightCastTests
{
    /// <summary>
    /// Two optimizer steps of two accumulated micro-batches each, as the trainer runs them; returns each
    /// micro-batch's loss and the gradients of the last step.
    /// </summary>
    static (float[] Losses, Tensor[] Grads, int CastsHeld) Train(ScalarType compute, bool cacheCasts)
    {
        manual_seed(31);
        using var model = new FlameModel(TinyModels.Moe) { ComputeType = compute, CacheWeightCasts = cacheCasts };
        var parameters = model.parameters().ToList();
        using var optimizer = OptimizerFactory.Create(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), new OptimizerSettings(), 1e-2);
        manual_seed(32);
        var batches = Enumerable.Range(0, 4).Select(_ => randint(0, 100, [2, 13])).ToArray();
        var losses = new List<float>();
        int held = 0;
        for (int step = 0; step < 2; step++)
        {
            optimizer.zero_grad();
            for (int micro = 0; micro < 2; micro++)
            {
                var tokens = batches[step * 2 + micro];
                var output = model.forward(tokens[.., ..^1]);
                var lm = FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]);
                (output.TrainingLoss(lm) / 2).backward();
                losses.Add(lm.item<float>());
            }
            held = model.WeightCasts.Count;
            if (step == 1) break; // keep the last step's gradients as they are
            GradientClipping.ClipGlobalNorm(parameters, 1.0);
            optimizer.step();
            model.RefreshWeightCasts();
            Assert.Equal(0, model.WeightCasts.Count);
        }
        return (losses.ToArray(), parameters.Select(p => p.grad!.clone()).ToArray(), held);
    }

    static void AssertIdentical((float[] Losses, Tensor[] Grads, int) a, (float[] Losses, Tensor[] Grads, int) b)
    {
        Assert.Equal(a.Losses, b.Losses);
        for (int i = 0; i < a.Grads.Length; i++)
            Assert.True(a.Grads[i].eq(b.Grads[i]).all().item<bool>(), $"gradient {i} differs by {(a.Grads[i] - b.Grads[i]).abs().max().item<float>()}");
    }

    [Fact]
    public void Bf16CastOncePerStepEqualsCastPerOpExactly()
    {
        var perOp = Train(ScalarType.BFloat16, cacheCasts: false);
        var once = Train(ScalarType.BFloat16, cacheCasts: true);
        AssertIdentical(perOp, once);
        Assert.Equal(0, perOp.CastsHeld);
        // One cast per weight matrix the ops use: layer 0 (dense) qkv, proj, gate_up, down; layers 1-2 (MoE) qkv,
        // proj, the experts' gate_up and down, the shared expert's gate_up and down; and the output layer.
        Assert.Equal(4 + 2 * 6 + 1, once.CastsHeld);
        // bf16 really was used: the losses differ from fp32 compute.
        Assert.NotEqual(Train(ScalarType.Float32, cacheCasts: false).Losses[0], once.Losses[0]);
    }

    [Fact]
    public void Fp32ComputeUsesTheMastersThemselvesAndIsUnchanged()
    {
        var plain = Train(ScalarType.Float32, cacheCasts: false);
        var cached = Train(ScalarType.Float32, cacheCasts: true);
        AssertIdentical(plain, cached);
        Assert.Equal(0, cached.CastsHeld);
    }

    [Fact]
    public void ACastMadeWithoutGradIsNotKeptForTraining()
    {
        manual_seed(41);
        using var model = new FlameModel(TinyModels.Moe) { ComputeType = ScalarType.BFloat16, CacheWeightCasts = true };
        var tokens = randint(0, 100, [2, 9]);
        using (no_grad()) model.forward(tokens);
        Assert.Equal(0, model.WeightCasts.Count);
        var output = model.forward(tokens[.., ..^1]);
        FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]).backward();
        Assert.Equal(17, model.WeightCasts.Count);
        Assert.True(model.output.grad is not null && model.output.grad.abs().sum().item<float>() > 0);
        Assert.True(model.blocks[1].moe!.experts.down.grad is not null);
    }
}
