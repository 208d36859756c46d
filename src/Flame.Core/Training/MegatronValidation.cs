using System.Text.Json;
using Flame.Data.Samples;
using Flame.Distributed;
using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// Held-out losses as Megatron-LM computes them (training.py evaluate / get_train_valid_test_num_samples):
/// each validation evaluation scores <see cref="TrainingConfig.EvalIters"/> global batches, evaluation k reading
/// global batches k*eval_iters .. (k+1)*eval_iters - 1 of the validation samples, so successive evaluations
/// continue through the split instead of rescoring the same first samples. The validation samples needed are
/// Megatron's count, (iterations // eval interval + 1) x eval_iters x global batch (epochs of the split repeat when
/// it is smaller), and the test split gets test_iters global batches, scored once after training. The loss is the
/// mean over all tokens (every sample has the same length, and no token is masked, as in FLAME-MoE's runs).
/// Under a launcher each rank scores its contiguous share of the samples (the global batch divides over the ranks,
/// so every rank runs the same number of forwards, which expert parallelism's all-to-all needs) and the ranks' means
/// are averaged, as Megatron's evaluate reduces the loss over the data-parallel group.
/// </summary>
public sealed class MegatronValidation : IDisposable
{
    readonly TrainingConfig _config;
    readonly OpenedSamples? _valid, _test;

    public MegatronValidation(TrainingConfig config, DataPath data)
    {
        _config = config;
        long batch = config.GlobalBatch;
        if (config.EvalIters > 0)
            _valid = Open(data, config, SplitName.Valid, config.EvaluationCadence.MegatronEvaluations * config.EvalIters * batch);
        try
        {
            if (config.TestIters > 0) _test = Open(data, config, SplitName.Test, config.TestIters * batch);
        }
        catch
        {
            _valid?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The split's samples: one pass over it when that holds the samples asked for (like Megatron, whose single-epoch
    /// shuffle covers the whole split, so the first samples do not depend on how many are asked for), else as many
    /// epochs as needed.
    /// </summary>
    static OpenedSamples Open(DataPath data, TrainingConfig config, SplitName split, long needed)
    {
        var once = data.Open(new GptSampleOptions(config.Sequence, split, Seed: config.Seed));
        if (once.Count >= needed) return once;
        once.Dispose();
        return data.Open(new GptSampleOptions(config.Sequence, split, Seed: config.Seed, Samples: needed));
    }

    /// <summary>The validation loss at a step of <see cref="TrainingConfig.EvaluationCadence"/>, or null when evaluation.eval_iters is 0.</summary>
    public double? Validate(FlameModel model, long step, Device device, ProcessGroups groups)
    {
        if (_valid is null) return null;
        long samples = (long)_config.EvalIters * _config.GlobalBatch;
        return MeanLoss(model, _valid, _config.EvaluationCadence.EvaluationIndex(step) * samples, samples, device, groups);
    }

    /// <summary>The test-split loss after training, or null when evaluation.test_iters is 0.</summary>
    public double? Test(FlameModel model, Device device, ProcessGroups groups) =>
        _test is null ? null : MeanLoss(model, _test, 0, (long)_config.TestIters * _config.GlobalBatch, device, groups);

    /// <summary>Megatron's printed perplexity: exp(min(20, loss)).</summary>
    public static double Perplexity(double loss) => Math.Exp(Math.Min(20, loss));

    /// <summary>Whether metrics.jsonl already holds the final test loss (a resumed, finished run does not score it again).</summary>
    public static bool HasTestLoss(string metricsPath) =>
        File.Exists(metricsPath) && File.ReadLines(metricsPath).Any(line => line.Length > 0 && JsonDocument.Parse(line).RootElement.TryGetProperty("test_loss", out _));

    double MeanLoss(FlameModel model, ISampleSource source, long first, long samples, Device device, ProcessGroups groups)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int ranks = groups.World.Size;
        samples /= ranks; // exact: the global batch divides over the ranks (ParallelLayout.Validate)
        first += groups.World.Rank * samples;
        var sum = zeros(1, device: device).squeeze();
        for (long start = 0; start < samples; start += _config.MicroBatch)
        {
            int count = (int)Math.Min(_config.MicroBatch, samples - start);
            var indices = Enumerable.Range(0, count).Select(i => first + start + i).ToArray();
            var tokens = SampleBatch.ToDevice(source, indices, model.Config.VocabSize, device);
            // Per-micro-batch means weighted by their samples, so a short last micro-batch counts by its tokens.
            sum = sum + FlameModel.LanguageModelLoss(model.forward(tokens[.., ..^1]).Logits, tokens[.., 1..]) * count;
        }
        return groups.MeanOverRanks(sum / samples).item<float>();
    }

    public void Dispose()
    {
        _valid?.Dispose();
        _test?.Dispose();
    }
}
