using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Training;
using Flame.Training;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Tests.Model;

/// <summary>
/// The chunked output layer and loss (training.loss_chunk) computes the unchunked loss and gradients. In fp32 only the
/// order of the sums differs (the loss: per chunk, then over chunks; the weight's gradient: one product per chunk added
/// up), so the results agree to a few fp32 roundings: 1e-6 relative (in the norm of the whole tensor).
/// </summary>
public class ChunkedLossTests
{
    const double Fp32Tolerance = 1e-6;

    static double RelativeError(Tensor actual, Tensor expected) =>
        (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).norm().item<double>() /
        expected.to(ScalarType.Float64).norm().item<double>();

    static void AssertClose(Tensor actual, Tensor expected, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double error = RelativeError(actual, expected);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E2} above {tolerance:E0}");
    }

    /// <summary>Loss and gradients of hidden [tokens, h] and weight [vocab, h], unchunked (chunk 0) or chunked.</summary>
    static (Tensor Loss, Tensor Hidden, Tensor Weight) LossAndGrads(Tensor hidden, Tensor weight, Tensor targets, int chunk, ScalarType compute)
    {
        var x = hidden.detach().clone().requires_grad_(true);
        var w = weight.detach().clone().requires_grad_(true); // the fp32 master; the ops see its cast, as WeightCasts gives it
        var xc = x.to(compute);
        var wc = w.to(compute);
        var loss = chunk == 0
            ? FlameModel.LanguageModelLoss(F.linear(xc, wc), targets)
            : ChunkedLinearCrossEntropy.Loss(xc, wc, targets, chunk);
        loss.backward();
        return (loss.detach(), x.grad!.clone(), w.grad!.clone());
    }

    /// <summary>24 tokens, h = 16, the tiny model's padded vocabulary (100 ids padded to 128): targets lie below 100.</summary>
    static (Tensor Hidden, Tensor Weight, Tensor Targets) Problem()
    {
        manual_seed(7);
        return (randn(24, 16), randn(128, 16) * 0.5, randint(0, 100, [24]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]   // does not divide 24: the last chunk holds 4 tokens
    [InlineData(8)]   // divides 24
    [InlineData(24)]  // one chunk
    [InlineData(1000)] // larger than the tokens
    public void Fp32LossAndGradientsMatchTheWholeLogits(int chunk)
    {
        var (hidden, weight, targets) = Problem();
        var whole = LossAndGrads(hidden, weight, targets, 0, ScalarType.Float32);
        var chunked = LossAndGrads(hidden, weight, targets, chunk, ScalarType.Float32);
        Assert.Equal(ScalarType.Float32, chunked.Loss.dtype);
        Assert.Empty(chunked.Loss.shape);
        AssertClose(chunked.Loss, whole.Loss, Fp32Tolerance, "loss");
        AssertClose(chunked.Hidden, whole.Hidden, Fp32Tolerance, "hidden gradient");
        AssertClose(chunked.Weight, whole.Weight, Fp32Tolerance, "output weight gradient");
        // Real values: the loss is a cross-entropy of random logits (above 0, of the order of ln 128), every weight row
        // has a gradient, and the padded rows (ids 100..127, never a target) receive only their softmax share (> 0).
        Assert.InRange(whole.Loss.item<float>(), 1f, 20f);
        Assert.True(chunked.Weight[100..].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void ThePaddedColumnsTakePartAsInTheUnchunkedLoss()
    {
        var (hidden, weight, targets) = Problem();
        var chunked = LossAndGrads(hidden, weight, targets, 5, ScalarType.Float32);
        // Without the padded columns the loss is smaller: both paths include them (the padded rows are learnt, and
        // their logits are pushed down), so neither may drop them.
        var unpadded = LossAndGrads(hidden, weight[..100], targets, 5, ScalarType.Float32);
        Assert.True(chunked.Loss.item<float>() > unpadded.Loss.item<float>() + 1e-3f);
        var reference = F.cross_entropy(hidden.mm(weight.t()).to(ScalarType.Float64), targets).item<double>();
        Assert.Equal(reference, chunked.Loss.item<float>(), 5);
    }

    [Fact]
    public void Bf16LossMatchesAndGradientsReachTheFp32Master()
    {
        var (hidden, weight, targets) = Problem();
        var whole = LossAndGrads(hidden, weight, targets, 0, ScalarType.BFloat16);
        var chunked = LossAndGrads(hidden, weight, targets, 5, ScalarType.BFloat16);
        // The logits are the same bf16 products cast to fp32; only the fp32 sums' order differs.
        AssertClose(chunked.Loss, whole.Loss, Fp32Tolerance, "bf16 loss");
        // The gradients pass through bf16 (the unchunked weight gradient is one bf16 product, the chunked one adds bf16
        // products in fp32): they agree to bf16's precision, 2^-8 relative.
        Assert.Equal(ScalarType.Float32, chunked.Weight.dtype);
        AssertClose(chunked.Hidden, whole.Hidden, 4e-3, "bf16 hidden gradient");
        AssertClose(chunked.Weight, whole.Weight, 4e-3, "bf16 output weight gradient");
    }

    /// <summary>One forward and backward of the tiny MoE model through its training forward; the loss and every parameter's gradient.</summary>
    static (float Loss, float Balance, Tensor[] Grads) ModelStep(int lossChunk)
    {
        manual_seed(31);
        using var model = new FlameModel(TinyModels.Moe);
        manual_seed(32);
        var tokens = randint(0, 100, [2, 13]);
        var output = model.forward(tokens[.., ..^1], tokens[.., 1..], lossChunk);
        output.TrainingLoss().backward();
        return (output.LmLoss.item<float>(), output.LoadBalancingLoss.item<float>(),
            model.parameters().Select(p => p.grad!.clone()).ToArray());
    }

    [Theory]
    [InlineData(5)]  // 24 tokens: does not divide
    [InlineData(12)] // divides
    public void EveryParameterOfATinyModelGetsTheUnchunkedGradient(int chunk)
    {
        var whole = ModelStep(0);
        var chunked = ModelStep(chunk);
        Assert.Equal(whole.Loss, chunked.Loss, 1e-6f * whole.Loss);
        Assert.Equal(whole.Balance, chunked.Balance); // the blocks' forward is the same computation
        Assert.Equal(whole.Grads.Length, chunked.Grads.Length);
        for (int i = 0; i < whole.Grads.Length; i++)
        {
            Assert.True(whole.Grads[i].abs().sum().item<float>() > 0, $"parameter {i} has no gradient");
            // Through the whole model the hidden gradient's roundings pass through every block's backward: 1e-5.
            AssertClose(chunked.Grads[i], whole.Grads[i], 1e-5, $"parameter {i}");
        }
    }

    [Fact]
    public void TheUnchunkedTrainingForwardIsTheForwardAndLanguageModelLoss()
    {
        manual_seed(31);
        using var model = new FlameModel(TinyModels.Moe);
        manual_seed(32);
        var tokens = randint(0, 100, [2, 13]);
        var logits = model.forward(tokens[.., ..^1]).Logits;
        var expected = FlameModel.LanguageModelLoss(logits, tokens[.., 1..]).item<float>();
        Assert.Equal(expected, model.forward(tokens[.., ..^1], tokens[.., 1..], 0).LmLoss.item<float>());
    }

    [Fact]
    public void TheTrainerLogsTheSameLossesWithTheLossInChunks()
    {
        using var dir = new TempFolder();
        var config = TrainerTests.TinyRun(TrainerTests.WriteCorpus(dir)) with { EvalIters = 0, TestIters = 0, Checkpoints = 1 };
        var whole = new Trainer(config, dir.File("whole")).Run(resume: false);
        // 2 x 16 tokens per micro-batch: chunks of 7 leave a last chunk of 4.
        var chunked = new Trainer(config with { LossChunk = 7 }, dir.File("chunked")).Run(resume: false);
        Assert.Equal(whole.Select(l => l.Step), chunked.Select(l => l.Step));
        for (int i = 0; i < whole.Count; i++)
        {
            // Six AdamW steps carry the fp32 roundings of the gradients into the weights: 1e-5 relative.
            Assert.Equal(whole[i].LmLoss, chunked[i].LmLoss, 1e-5 * whole[i].LmLoss);
            Assert.Equal(whole[i].GradNorm, chunked[i].GradNorm, 1e-5 * whole[i].GradNorm);
        }
        Assert.True(whole[^1].LmLoss < whole[0].LmLoss, "the run learns, so later steps depend on the gradients");
    }
}
