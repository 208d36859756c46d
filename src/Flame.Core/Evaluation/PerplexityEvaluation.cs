using Flame.Data.Samples;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Evaluation;

/// <summary>
/// Perplexity on a held-out token file (a Megatron indexed dataset): the validation split cut into samples
/// exactly as the trainer cuts it (same sequence length, split weights and seed), every next-token prediction
/// of the first N batches scored, perplexity = exp(mean cross-entropy over all those tokens).
/// </summary>
public static class PerplexityEvaluation
{
    public static PerplexityResult Run(FlameModel model, Device device, IReadOnlyList<string> data, int sequence, int batches, int batchSize,
        long seed, long step, SplitName split = SplitName.Valid, IProgress<EvalProgress>? progress = null, CancellationToken cancel = default)
    {
        if (sequence < 1 || sequence > model.Config.MaxPositions)
            throw new UserError($"perplexity sequence {sequence} must be between 1 and the model's max positions {model.Config.MaxPositions}");
        using var samples = DataPath.Parse(data).Open(new GptSampleOptions(sequence, split, Seed: seed));
        long available = samples.Count;
        if (available == 0) throw new UserError($"{string.Join(' ', data)}: the {split} split holds no sample of {sequence + 1} tokens");
        long count = batches > 0 ? Math.Min(available, (long)batches * batchSize) : available;
        long batchCount = (count + batchSize - 1) / batchSize;
        double lossSum = 0;
        long tokens = 0;
        using var noGrad = no_grad();
        for (long b = 0; b < batchCount; b++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var indices = Enumerable.Range(0, (int)Math.Min(batchSize, count - b * batchSize)).Select(i => b * batchSize + i).ToArray();
            var batch = SampleBatch.ToTensor(samples, indices, model.Config.VocabSize).to(device);
            var logits = model.forward(batch[.., ..^1]).Logits;
            var loss = F.cross_entropy(logits.reshape(-1, logits.shape[^1]).to(ScalarType.Float32), batch[.., 1..].reshape(-1), reduction: nn.Reduction.Sum);
            lossSum += loss.item<float>();
            tokens += indices.Length * (long)sequence;
            progress?.Report(new EvalProgress("perplexity", b + 1, batchCount));
        }
        double mean = lossSum / tokens;
        return new PerplexityResult(string.Join(' ', data), split.ToString().ToLowerInvariant(), sequence, count, tokens, mean, Math.Exp(mean), step);
    }
}
