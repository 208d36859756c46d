using Flame.Evaluation;
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
            return Enumerable.Range(0, 3).SelectMany(_ => sampler.Next(3)).Select(d => d.Query!).ToList();
        }
        Assert.Equal(["q24", "q14", "q3", "q0", "q2", "q29", "q25", "q18", "q1"], Draw(1234));
        Assert.Equal(Draw(1234), Draw(1234));
        Assert.NotEqual(Draw(1234), Draw(1235));
    }
}
