using Flame.Evaluation;
using System.Text.Json.Nodes;
using Flame.Evaluation.Tasks;

namespace Flame.Tests.Evaluation;

/// <summary>
/// Few-shot draws reproduce CPython's random.Random(seed).sample, the harness's sampler. Expected values were
/// printed by Python 3.11: random.Random(1234).getrandbits(32) x3, and consecutive .sample calls.
/// </summary>
public class FewShotSamplingTests
{
    [Fact]
    public void MersenneTwisterMatchesPythonsSeeding()
    {
        var random = new PythonRandom(1234);
        Assert.Equal([4150886329u, 3342196574u, 1892932127u], new[] { random.NextUInt32(), random.NextUInt32(), random.NextUInt32() });
    }

    [Fact]
    public void SampleMatchesPythonWithBothOfItsAlgorithms()
    {
        // Python pools when n <= 21 (+ 4^ceil(log4(3k)) for k > 5), else rejects repeats with a set: 30 of 3 and 2000 of 10 reject, 50 of 10 and 7 of 3 pool.
        var a = new PythonRandom(1234);
        Assert.Equal([24, 14, 3], a.SampleIndices(30, 3));
        Assert.Equal([0, 2, 29], a.SampleIndices(30, 3));
        Assert.Equal([25, 18, 1], a.SampleIndices(30, 3));
        var b = new PythonRandom(1234);
        Assert.Equal([49, 28, 7, 0, 5, 37, 2, 42, 45, 6], b.SampleIndices(50, 10));   // pool (50 <= 85)
        Assert.Equal([6, 2, 1], b.SampleIndices(7, 3));
        var c = new PythonRandom(1234);
        Assert.Equal([1979, 1593, 902, 239, 15, 185, 1865, 1930, 1923, 1652], c.SampleIndices(2000, 10));
        Assert.Equal([1192, 71, 1375, 1419, 171, 201, 1569, 726, 484, 35], c.SampleIndices(2000, 10));
        Assert.Equal([12, 13, 1, 8, 15], new PythonRandom(0).SampleIndices(20, 5));
        Assert.Equal([516, 529, 275, 679], new PythonRandom((1L << 40) + 5).SampleIndices(1000, 4));
    }

    [Fact]
    public void TheSameSeedDrawsTheSameExamplesForEveryDocumentInOrder()
    {
        var pool = Enumerable.Range(0, 30).Select(i => new EvalDoc { Query = $"q{i}", Choices = ["a"], Gold = 0 }).ToList();
        List<string> Draw(long seed)
        {
            var sampler = new FewShotSampler(pool, seed);
            return Enumerable.Range(0, 3).SelectMany(_ => sampler.Next(3, Outsider)).Select(d => d.Query!).ToList();
        }
        Assert.Equal(["q24", "q14", "q3", "q0", "q2", "q29", "q25", "q18", "q1"], Draw(1234));
        Assert.Equal(Draw(1234), Draw(1234));
        Assert.NotEqual(Draw(1234), Draw(1235));
    }

    static readonly EvalDoc Outsider = new() { Query = "evaluated", Choices = ["a"], Gold = 0 };

    static EvalDoc FromRow(string json) => HarnessTasks.Get("piqa").Parse((JsonObject)JsonNode.Parse(json)!) with { Row = (JsonObject)JsonNode.Parse(json)! };

    [Fact]
    public void TasksWithoutATestSplitDrawOneMoreAndDropTheEvaluatedDocument()
    {
        // Python 3.11: r = random.Random(1234); for doc in (14, 100, 7): d = r.sample(range(30), 4); [x for x in d if x != doc][:3]
        // -> [24, 14, 3, 0] keeps [24, 3, 0]; [2, 29, 25, 18] keeps [2, 29, 25]; [1, 21, 22, 2] keeps [1, 21, 22].
        var pool = Enumerable.Range(0, 30).Select(i => FromRow(EvalFixtures.PiqaTrainRow(i))).ToList();
        var sampler = new FewShotSampler(pool, 1234, drawsExtra: true);
        // The evaluated document equals pool[14] by value (parsed again from the same row), as the harness compares dicts.
        var first = sampler.Next(3, FromRow(EvalFixtures.PiqaTrainRow(14)));
        var second = sampler.Next(3, FromRow(EvalFixtures.PiqaTrainRow(100)));
        var third = sampler.Next(3, FromRow(EvalFixtures.PiqaTrainRow(7)));
        Assert.Equal([pool[24], pool[3], pool[0]], first);
        Assert.Equal([pool[2], pool[29], pool[25]], second);
        Assert.Equal([pool[1], pool[21], pool[22]], third);

        // Python compares dicts whatever their key order: the same row written with its fields reordered is still dropped.
        var reordered = new FewShotSampler(pool, 1234, drawsExtra: true)
            .Next(3, FromRow("""{"label": 1, "sol2": "right 14", "goal": "goal 14", "sol1": "wrong 14"}"""));
        Assert.Equal([pool[24], pool[3], pool[0]], reordered);
    }

    [Fact]
    public void TenShotsWithSeed42MatchPythonAndDifferFromPlainDrawsFromTheSecondDocument()
    {
        // Python 3.11: r = random.Random(42); [r.sample(range(16113), 11)[:10] for _ in range(3)] (PIQA's train split has 16,113 rows).
        int[][] harness =
        [
            [10476, 1824, 409, 12149, 4506, 4012, 3657, 2286, 12066, 1679],
            [12135, 14617, 8935, 1424, 9674, 6912, 520, 488, 1535, 3582],
            [8279, 9863, 434, 9195, 3257, 11731, 10647, 11490, 8928, 6873],
        ];
        // r = random.Random(42); [r.sample(range(16113), 10) for _ in range(3)]: what drawing k (not k + 1) gives.
        int[] plainSecond = [11087, 12135, 14617, 8935, 1424, 9674, 6912, 520, 488, 1535];
        var pool = Enumerable.Range(0, 16113).Select(i => new EvalDoc { Query = $"{i}", Choices = ["a"], Gold = 0 }).ToList();
        var extra = new FewShotSampler(pool, 42, drawsExtra: true);
        foreach (var expected in harness) Assert.Equal(expected, extra.Next(10, Outsider).Select(d => int.Parse(d.Query!)));
        var plain = new FewShotSampler(pool, 42);
        Assert.Equal(harness[0], plain.Next(10, Outsider).Select(d => int.Parse(d.Query!)));   // the first document agrees
        Assert.Equal(plainSecond, plain.Next(10, Outsider).Select(d => int.Parse(d.Query!)));  // from the second on, not
    }

    [Fact]
    public void TheExtraDrawFollowsEachTasksHarnessSplits()
    {
        // piqa.yaml, hellaswag.yaml: test_split null; winogrande default.yaml: none; arc_*.yaml and openbookqa.yaml: test_split test.
        Assert.Equal(["hellaswag", "piqa", "winogrande"], HarnessTasks.All.Where(t => t.DrawsExtraShot).Select(t => t.Name).Order());
        Assert.Equal(11, FewShotSampler.PoolNeeded(10, drawsExtra: true));
        Assert.Equal(10, FewShotSampler.PoolNeeded(10, drawsExtra: false));
        Assert.Equal(0, FewShotSampler.PoolNeeded(0, drawsExtra: true));
        var two = Enumerable.Range(0, 2).Select(i => FromRow(EvalFixtures.PiqaTrainRow(i))).ToList();
        Assert.Contains("needs 3 training examples", Assert.Throws<UserError>(() => new FewShotSampler(two, 1, drawsExtra: true).Next(2, Outsider)).Message);
    }
}
