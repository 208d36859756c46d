using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>How far the grouped dispatch is from the reference loop for one forward and backward pass.</summary>
public sealed record DispatchParityResult(string Device, string Dtype, double MaxLogitDiff, double MaxGradDiff, double MaxLogit, double MaxGrad);

/// <summary>
/// Runs the same model, weights and tokens once with each dispatch path and compares logits and every
/// gradient. Lets a user check the fast path on their own GPU, where the unit tests (CPU) cannot reach.
/// </summary>
public static class DispatchParity
{
    public static DispatchParityResult Check(ModelConfig config, Device device, ScalarType computeType, int batch, int sequence, long seed = 1234)
    {
        (Tensor Logits, Tensor[] Grads) Run(DispatchMode mode)
        {
            manual_seed(seed);
            using var model = new FlameModel(config);
            model.to(device);
            model.ComputeType = computeType;
            model.Dispatch = mode;
            manual_seed(seed + 1);
            var tokens = randint(0, config.VocabSize, [batch, sequence + 1]).to(device);
            var output = model.forward(tokens[.., ..^1]);
            var loss = output.TrainingLoss(FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]));
            loss.backward();
            var grads = model.parameters().Select(p => (p.grad ?? zeros_like(p)).to(ScalarType.Float32).cpu()).ToArray();
            return (output.Logits.detach().to(ScalarType.Float32).cpu(), grads);
        }
        var reference = Run(DispatchMode.Reference);
        var grouped = Run(DispatchMode.Grouped);
        double gradDiff = reference.Grads.Zip(grouped.Grads).Max(pair => (pair.First - pair.Second).abs().max().item<float>());
        double maxGrad = reference.Grads.Max(g => g.abs().max().item<float>());
        return new DispatchParityResult(
            device.ToString(), computeType.ToString(),
            (reference.Logits - grouped.Logits).abs().max().item<float>(), gradDiff,
            reference.Logits.abs().max().item<float>(), maxGrad);
    }
}
