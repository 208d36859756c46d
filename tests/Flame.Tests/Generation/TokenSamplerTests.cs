using Flame.Generation;

namespace Flame.Tests.Generation;

/// <summary>Temperature, top-k and top-p against hand-computed distributions.</summary>
public class TokenSamplerTests
{
    static int[] Counts(GenerationOptions options, float[] logits, int draws = 8000)
    {
        var sampler = new TokenSampler(options);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Next(logits)]++;
        return counts;
    }

    [Fact]
    public void GreedyTakesTheLargestAndTheLowerIdOnATie()
    {
        Assert.Equal(2, new TokenSampler(new GenerationOptions(Temperature: 0)).Next([0.1f, 3f, 5f, 5f, -1f]));
    }

    [Fact]
    public void TemperatureOneSamplesTheSoftmax()
    {
        // softmax(ln 1, ln 3) = (1/4, 3/4)
        var counts = Counts(new GenerationOptions(Temperature: 1, TopK: 0), [0f, MathF.Log(3)]);
        Assert.InRange(counts[1] / 8000.0, 0.73, 0.77);
    }

    [Fact]
    public void TemperatureSharpensAndFlattens()
    {
        // At T = 0.5 the odds square: 1 : 9, so p(1) = 0.9. At T = 2 they take the root: 1 : sqrt 3, p(1) = 0.634.
        Assert.InRange(Counts(new GenerationOptions(Temperature: 0.5, TopK: 0), [0f, MathF.Log(3)])[1] / 8000.0, 0.88, 0.92);
        Assert.InRange(Counts(new GenerationOptions(Temperature: 2, TopK: 0), [0f, MathF.Log(3)])[1] / 8000.0, 0.61, 0.66);
    }

    [Fact]
    public void TopKKeepsOnlyTheKMostLikely()
    {
        var counts = Counts(new GenerationOptions(TopK: 2), [1f, 4f, 3f, 2f]);
        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[3]);
        Assert.InRange(counts[1] / 8000.0, 0.71, 0.75); // e / (e + 1) = 0.731
    }

    [Fact]
    public void TopPKeepsTheSmallestNucleusReachingP()
    {
        // p = (0.5, 0.3, 0.2): top-p 0.7 keeps 0.5 + 0.3, renormalised to 5/8 and 3/8.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var counts = Counts(new GenerationOptions(TopK: 0, TopP: 0.7), logits);
        Assert.Equal(0, counts[2]);
        Assert.InRange(counts[0] / 8000.0, 0.60, 0.65);
        // A tiny p keeps only the most likely token.
        Assert.Equal(8000, Counts(new GenerationOptions(TopK: 0, TopP: 1e-6), logits)[0]);
    }

    [Theory]
    [InlineData(-1, 50, 1.0, "temperature must be 0")]
    [InlineData(1, -2, 1.0, "top-k must be 0")]
    [InlineData(1, 50, 0.0, "top-p must be in (0, 1]")]
    [InlineData(1, 50, 1.5, "top-p must be in (0, 1]")]
    public void ImpossibleOptionsAreUserErrors(double temperature, int topK, double topP, string expected)
    {
        var error = Assert.Throws<UserError>(() => new GenerationOptions(Temperature: temperature, TopK: topK, TopP: topP).Validate());
        Assert.Contains(expected, error.Message);
    }
}
