using System.Text.Json.Nodes;
using Flame.Evaluation.Tasks;

namespace Flame.Evaluation;

/// <summary>
/// Few-shot examples as the harness draws them (lm_eval/api/samplers.py, ContextSampler.get_context): one
/// <see cref="PythonRandom"/> seeded once per task (the fewshot seed: 1234 by default, 42 in FLAME-MoE's
/// evaluate.sh), and for every evaluated document in order, <c>random.sample(fewshot_docs, n)</c> over the
/// training split. When the task's fewshot_split equals its test_split (both unset for PIQA, HellaSwag and
/// WinoGrande, whose YAMLs have no test split) the harness draws n = k + 1, drops the evaluated document if it
/// was drawn, and keeps the first k; otherwise (ARC, OpenBookQA: test_split "test") it draws n = k. Same seed,
/// same rows and the same document order give the harness's examples.
/// </summary>
public sealed class FewShotSampler(IReadOnlyList<EvalDoc> pool, long seed, bool drawsExtra = false)
{
    readonly PythonRandom _random = new(seed);

    /// <summary>Documents the pool must hold for k shots: random.sample raises when asked for more than it has.</summary>
    public static int PoolNeeded(int k, bool drawsExtra) => k == 0 ? 0 : drawsExtra ? k + 1 : k;

    public IReadOnlyList<EvalDoc> Next(int k, EvalDoc evaluated)
    {
        if (k == 0) return [];
        int n = PoolNeeded(k, drawsExtra);
        if (n > pool.Count)
            throw new UserError($"{k}-shot needs {n} training examples{(drawsExtra ? " (the harness draws one more when the task has no test split)" : "")} but the training split has {pool.Count}");
        var drawn = _random.SampleIndices(pool.Count, n).Select(i => pool[i]);
        return drawsExtra ? drawn.Where(d => !SameDocument(d, evaluated)).Take(k).ToList() : drawn.ToList();
    }

    /// <summary>
    /// The harness's <c>x != doc</c>: two documents are the same when their rows hold the same fields and values
    /// (Python's dict equality; the fields the task derives from a row follow from it). Documents built without a
    /// row compare by what the task made of them.
    /// </summary>
    public static bool SameDocument(EvalDoc a, EvalDoc b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.Row is not null && b.Row is not null) return JsonNode.DeepEquals(a.Row, b.Row);
        return a.Query == b.Query && a.Gold == b.Gold && a.SharedContinuation == b.SharedContinuation && a.Choices.SequenceEqual(b.Choices);
    }
}
