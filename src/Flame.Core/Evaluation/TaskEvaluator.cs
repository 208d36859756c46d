using System.Diagnostics;
using Flame.Data.Tokenization;
using Flame.Evaluation.Tasks;

namespace Flame.Evaluation;

/// <summary>
/// One task on one model, the harness's way: documents of the evaluated split in file order (the first
/// --limit of them), k few-shot examples per document from the training split (<see cref="FewShotSampler"/>),
/// one log-likelihood request per choice, acc and acc_norm per document, means with standard errors; with
/// <see cref="EvalOptions.LogSamples"/> also every document's requests and scores.
/// </summary>
public static class TaskEvaluator
{
    public static TaskResult Run(TaskDefinition task, TaskSplit eval, TaskSplit? train, int shots, EvalOptions options,
        TextTokenizer tokenizer, LoglikelihoodScorer scorer, long step, IProgress<EvalProgress>? progress = null, CancellationToken cancel = default)
    {
        if (shots > 0 && train is null) throw new ArgumentException("shots need the training split");
        var clock = Stopwatch.StartNew();
        var docs = eval.Docs.Take(options.Limit ?? int.MaxValue).ToList();
        var sampler = new FewShotSampler(train?.Docs ?? [], options.FewShotSeed, task.DrawsExtraShot);
        // Draw in document order (the harness's order), then tokenize on every core.
        var pairs = docs.Select(doc => PromptBuilder.Requests(doc, sampler.Next(shots, doc))).ToList();
        var tokenized = new TokenizedRequest[docs.Count][];
        Parallel.For(0, docs.Count, new ParallelOptions { CancellationToken = cancel }, d =>
        {
            var contexts = new Dictionary<string, IReadOnlyList<int>>();
            tokenized[d] = pairs[d].Select(p => TokenizedRequest.Encode(tokenizer, p.Context, p.Continuation, contexts)).ToArray();
        });
        var flat = tokenized.SelectMany(t => t).ToList();
        long done = 0;
        progress?.Report(new EvalProgress(task.Name, 0, flat.Count));
        var scored = scorer.Score(flat, n => progress?.Report(new EvalProgress(task.Name, done += n, flat.Count)), cancel);

        var acc = new List<bool>(docs.Count);
        var accNorm = new List<bool>(docs.Count);
        var samples = options.LogSamples ? new List<DocumentSample>(docs.Count) : null;
        int at = 0;
        for (int d = 0; d < docs.Count; d++)
        {
            var doc = docs[d];
            var results = scored.Results.Skip(at).Take(doc.Choices.Count).ToList();
            at += doc.Choices.Count;
            var lls = results.Select(r => r.Value).ToList();
            var (a, n) = MultipleChoiceScoring.Judge(doc, lls);
            acc.Add(a);
            accNorm.Add(task.HasAccNorm ? n : a);
            samples?.Add(new DocumentSample(d, pairs[d].Select(p => new[] { p.Context, p.Continuation }).ToList(), lls,
                results.Select(r => r.IsGreedy).ToList(), doc.Gold, a ? 1 : 0, task.HasAccNorm ? (n ? 1 : 0) : null));
        }
        var accMean = MeanWithError.Of(acc);
        var normMean = MeanWithError.Of(accNorm);
        double seconds = clock.Elapsed.TotalSeconds;
        return new TaskResult
        {
            Task = task.Name, NumFewshot = shots, N = docs.Count,
            Acc = accMean.Mean, AccStderr = accMean.StdErr, AccNorm = normMean.Mean, AccNormStderr = normMean.StdErr,
            AccNormDefined = task.HasAccNorm, CheckpointStep = step, Split = eval.Split, Files = eval.Files,
            SkippedRows = eval.BadRows, SkippedRowExamples = eval.BadRowExamples, SkippedTrainRows = train?.BadRows ?? 0,
            Requests = flat.Count, TruncatedRequests = scored.Truncated, Window = scorer.Window, FewshotSeed = options.FewShotSeed,
            Seconds = seconds, ChoicesPerSecond = flat.Count / Math.Max(seconds, 1e-9),
            ExampleContext = pairs[0][0].Context, ExampleContinuation = pairs[0][0].Continuation,
            Samples = samples,
        };
    }
}
