using Flame.Evaluation.Tasks;

namespace Flame.Evaluation;

/// <summary>
/// Few-shot examples as the harness draws them: one <see cref="PythonRandom"/> seeded once per task (the
/// harness's fewshot seed, 1234), and for every evaluated document in order, k documents of the training
/// split picked by Python's random.sample. Same seed, same training rows and same document order give the
/// same examples as the harness.
/// </summary>
public sealed class FewShotSampler(IReadOnlyList<EvalDoc> pool, long seed)
{
    readonly PythonRandom _random = new(seed);

    public IReadOnlyList<EvalDoc> Next(int k)
    {
        if (k == 0) return [];
        if (k > pool.Count) throw new UserError($"{k}-shot needs {k} training examples but the training split has {pool.Count}");
        return _random.SampleIndices(pool.Count, k).Select(i => pool[i]).ToList();
    }
}
