using System.Diagnostics;
using Flame.Checkpointing;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Evaluation;

/// <summary>Choices scored per second, with the shape of the requests that were scored.</summary>
public sealed record ScoringThroughput(int Choices, int ContextTokens, int ContinuationTokens, int BatchSize, int Truncated, double Seconds, double ChoicesPerSecond, double TokensPerSecond);

/// <summary>
/// Scoring throughput of <see cref="LoglikelihoodScorer"/> on synthetic requests of a fixed shape (random token
/// ids, seeded): what the model computes does not depend on the text, only on the lengths, so this measures
/// the evaluation's cost per choice without task data. A warm-up batch runs before the clock starts.
/// </summary>
public static class ScoringBenchmark
{
    /// <summary>Loads a checkpoint (or, with none named, builds a freshly initialised <paramref name="fresh"/> model, seed 1234) and measures it.</summary>
    public static (string Model, ScoringThroughput Result) Measure(string? checkpointOrRun, ModelConfig fresh, Device device, ScalarType? computeType,
        int choices, int contextTokens, int continuationTokens, int batchSize)
    {
        using var loaded = checkpointOrRun is null ? null : TrainedCheckpoint.Load(checkpointOrRun, device);
        manual_seed(1234);
        using var built = loaded is null ? new FlameModel(fresh) : null;
        if (built is not null) { built.to(device); built.eval(); }
        var model = loaded?.Model ?? built!;
        model.ComputeType = computeType ?? Runtime.ComputeTarget.DefaultComputeType(device);
        var name = loaded is null ? $"{model.Config.Name} (fresh)" : $"{model.Config.Name} step {loaded.Step}";
        return (name, Run(model, device, choices, contextTokens, continuationTokens, batchSize));
    }

    public static ScoringThroughput Run(FlameModel model, Device device, int choices, int contextTokens, int continuationTokens, int batchSize, int seed = 1234)
    {
        if (choices < 1 || contextTokens < 1 || continuationTokens < 1)
            throw new UserError("choices, context tokens and continuation tokens must all be positive");
        var random = new Random(seed);
        int vocab = model.Config.VocabSize;
        TokenizedRequest Make() => new(
            Enumerable.Range(0, contextTokens).Select(_ => random.Next(vocab)).ToArray(),
            Enumerable.Range(0, continuationTokens).Select(_ => random.Next(vocab)).ToArray());
        var requests = Enumerable.Range(0, choices).Select(_ => Make()).ToList();
        var scorer = new LoglikelihoodScorer(model, device, batchSize);
        scorer.Score(requests.Take(batchSize).ToList());
        var clock = Stopwatch.StartNew();
        var scored = scorer.Score(requests);
        double seconds = clock.Elapsed.TotalSeconds;
        long tokens = (long)choices * Math.Min(contextTokens + continuationTokens - 1, scorer.Window);
        return new ScoringThroughput(choices, contextTokens, continuationTokens, batchSize, scored.Truncated, seconds, choices / seconds, tokens / seconds);
    }
}
