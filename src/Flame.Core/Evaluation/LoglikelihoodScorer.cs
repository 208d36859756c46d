using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Evaluation;

/// <summary>Summed log-probability of a request's continuation, and whether greedy decoding would produce it.</summary>
public readonly record struct Loglikelihood(double Value, bool IsGreedy);

/// <summary>Scores of a list of requests, in their order, and how many had to be cut to the model's window.</summary>
public sealed record ScoredRequests(IReadOnlyList<Loglikelihood> Results, int Truncated);

/// <summary>
/// Log-likelihood scoring as the harness's _loglikelihood_tokens does it: the model sees the last
/// window + 1 tokens of context + continuation minus the final one (so a long context is cut from the left),
/// and the continuation's tokens are read off the last positions. Requests run longest first in batches,
/// right-padded (a causal model's earlier positions never see the padding, and dropless routing is per token),
/// one forward per batch (the output layer only where a continuation token is read, <see cref="PositionLogits"/>)
/// and one read back to the host. log_softmax runs over every row of the output layer,
/// padded vocabulary rows included, as the harness does over a Hugging Face model's padded lm_head.
/// </summary>
public sealed class LoglikelihoodScorer(FlameModel model, Device device, int batchSize)
{
    public int Window => model.Config.MaxPositions;

    public ScoredRequests Score(IReadOnlyList<TokenizedRequest> requests, Action<int>? onBatch = null, CancellationToken cancel = default)
    {
        if (batchSize < 1) throw new UserError($"batch size must be positive (got {batchSize})");
        var inputs = new int[requests.Count][];
        var targets = new int[requests.Count][];
        int truncated = 0;
        for (int i = 0; i < requests.Count; i++)
        {
            var (context, continuation) = (requests[i].Context, requests[i].Continuation);
            int total = context.Length + continuation.Length;
            int keep = Math.Min(total, Window + 1);
            if (total > Window + 1) truncated++;
            var window = context.Concat(continuation).Skip(total - keep).ToArray();
            inputs[i] = window[..^1];
            // The first continuation token has no position left when the continuation alone overflows the window.
            targets[i] = continuation[^Math.Min(continuation.Length, inputs[i].Length)..];
        }
        var order = Enumerable.Range(0, requests.Count).OrderByDescending(i => inputs[i].Length).ThenBy(i => i).ToArray();
        var results = new Loglikelihood[requests.Count];
        using var noGrad = no_grad();
        for (int start = 0; start < order.Length; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            var batch = order[start..Math.Min(order.Length, start + batchSize)];
            ScoreBatch(batch, inputs, targets, results);
            onBatch?.Invoke(batch.Length);
        }
        return new ScoredRequests(results, truncated);
    }

    void ScoreBatch(int[] batch, int[][] inputs, int[][] targets, Loglikelihood[] results)
    {
        using var scope = NewDisposeScope();
        int width = batch.Max(i => inputs[i].Length);
        var tokens = new long[batch.Length * width];
        var rows = new List<long>();
        var columns = new List<long>();
        var wanted = new List<long>();
        for (int b = 0; b < batch.Length; b++)
        {
            var input = inputs[batch[b]];
            for (int t = 0; t < input.Length; t++) tokens[b * width + t] = input[t];
            var target = targets[batch[b]];
            for (int k = 0; k < target.Length; k++)
            {
                rows.Add(b);
                columns.Add(input.Length - target.Length + k);
                wanted.Add(target[k]);
            }
        }
        if (wanted.Count == 0)
        {
            foreach (var i in batch) results[i] = new Loglikelihood(0, true);
            return;
        }
        var picked = PositionLogits.Compute(model, tensor(tokens, [batch.Length, width], int64).to(device),
            tensor(rows.ToArray()).to(device), tensor(columns.ToArray()).to(device)).to(ScalarType.Float32).log_softmax(-1);
        var want = tensor(wanted.ToArray()).to(device);
        var logProbs = picked.gather(1, want.unsqueeze(1)).squeeze(1);
        var greedy = picked.argmax(1).eq(want);
        var host = logProbs.cpu().data<float>().ToArray();
        var hostGreedy = greedy.cpu().data<bool>().ToArray();
        int at = 0;
        foreach (var i in batch)
        {
            double sum = 0;
            bool allGreedy = true;
            for (int k = 0; k < targets[i].Length; k++, at++)
            {
                sum += host[at];
                allGreedy &= hostGreedy[at];
            }
            results[i] = new Loglikelihood(sum, allGreedy);
        }
    }
}
