using Flame.Data.Tokenization;
using Flame.Evaluation.Tasks;
using Flame.Evaluation;
using Flame.Tests.Data;
using TorchSharp;
using static Flame.Tests.Evaluation.EvalFixtures;
using static TorchSharp.torch;

namespace Flame.Tests.Evaluation;

/// <summary>Log-likelihood scoring against models whose next-token probabilities are known, and the harness's metrics.</summary>
public class ScoringTests
{
    static readonly TextTokenizer Demo = TokenizerLoader.Load("demo");

    [Fact]
    public void AUniformModelGivesMinusLnOfEveryOutputRowPerToken()
    {
        // 8193 tokens padded to 8320 output rows: the softmax runs over all 8320, as the harness's does over a padded lm_head.
        using var model = UniformModel();
        Assert.Equal(8320, model.Config.PaddedVocab);
        var scorer = new LoglikelihoodScorer(model, CPU, batchSize: 4);
        var requests = new[]
        {
            TokenizedRequest.Encode(Demo, "Question: Which object is a conductor?\nAnswer:", " copper"),
            TokenizedRequest.Encode(Demo, "Question: Which object is a conductor?\nAnswer:", " a piece of dry wood from the forest"),
        };
        var scored = scorer.Score(requests);
        for (int i = 0; i < requests.Length; i++)
            Assert.Equal(-requests[i].Continuation.Length * Math.Log(8320), scored.Results[i].Value, 1e-4);
        Assert.True(requests[1].Continuation.Length > requests[0].Continuation.Length);
        Assert.Equal(0, scored.Truncated);
    }

    [Fact]
    public void AKnownDistributionGivesTheHandComputedLogLikelihoodAndGreedyFlag()
    {
        static float Logit(int v) => v == 42 ? 5f : (v % 7) * 0.5f;
        using var model = KnownModel(Logit);
        double logZ = Math.Log(Enumerable.Range(0, 8320).Sum(v => Math.Exp(Logit(v))));
        var scorer = new LoglikelihoodScorer(model, CPU, batchSize: 2);
        var scored = scorer.Score([new TokenizedRequest([5, 9, 11], [3, 4]), new TokenizedRequest([1], [42, 42])]);
        Assert.Equal(Logit(3) + Logit(4) - 2 * logZ, scored.Results[0].Value, 1e-3);
        Assert.False(scored.Results[0].IsGreedy);
        Assert.Equal(2 * (5.0 - logZ), scored.Results[1].Value, 1e-3);
        Assert.True(scored.Results[1].IsGreedy);
    }

    [Fact]
    public void BatchingAndPaddingDoNotChangeARealModelsScores()
    {
        using var model = RandomModel();
        var requests = new[]
        {
            new TokenizedRequest([1, 2, 3, 4, 5, 6, 7], [8, 9]),
            new TokenizedRequest([10], [11, 12, 13, 14]),
            new TokenizedRequest([15, 16, 17], [18]),
            new TokenizedRequest(Enumerable.Range(100, 40).ToArray(), [200, 201, 202]),
            new TokenizedRequest([300, 301], [302]),
        };
        var one = new LoglikelihoodScorer(model, CPU, 1).Score(requests).Results;
        var three = new LoglikelihoodScorer(model, CPU, 3).Score(requests).Results;
        // Batches of 1 and 3 (other GEMM shapes, padding): sums of a few fp32 log-probabilities of ~-10 each agree to ~1e-5.
        for (int i = 0; i < requests.Length; i++) Assert.Equal(one[i].Value, three[i].Value, 1e-4);

        // By hand for request 0: one forward over context + continuation minus the last token, continuation read off the last positions.
        using var noGrad = no_grad();
        var logProbs = model.forward(tensor(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }).unsqueeze(0)).Logits.log_softmax(-1);
        double expected = logProbs[0, 6, 8].item<float>() + logProbs[0, 7, 9].item<float>();
        Assert.Equal(expected, one[0].Value, 1e-4); // another forward (unpadded, alone): fp32 rounding, as above
    }

    [Fact]
    public void LogitsAtChosenPositionsEqualTheModelsOwnForward()
    {
        using var model = RandomModel();
        using var noGrad = no_grad();
        var tokens = tensor(Enumerable.Range(0, 2 * 12).Select(i => (long)(i * 37 % 8193)).ToArray(), [2, 12]);
        var rows = tensor(new long[] { 0, 1, 1, 0 });
        var columns = tensor(new long[] { 11, 0, 5, 3 });
        var full = model.forward(tokens).Logits;
        var expected = full.index(rows, columns);
        Assert.True(Flame.Evaluation.PositionLogits.Compute(model, tokens, rows, columns).allclose(expected, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void AContextLongerThanTheWindowIsCutFromTheLeftAndCounted()
    {
        using var model = RandomModel(maxPositions: 16);
        var context = Enumerable.Range(1, 30).ToArray();
        var scored = new LoglikelihoodScorer(model, CPU, 2).Score([new TokenizedRequest(context, [40, 41, 42]), new TokenizedRequest([1, 2], [3])]);
        Assert.Equal(1, scored.Truncated);
        // The model sees the last 17 tokens minus the final one: 17..30, 40, 41.
        using var noGrad = no_grad();
        var window = Enumerable.Range(17, 14).Select(t => (long)t).Concat([40L, 41L]).ToArray();
        var logProbs = model.forward(tensor(window).unsqueeze(0)).Logits.log_softmax(-1);
        double expected = logProbs[0, 13, 40].item<float>() + logProbs[0, 14, 41].item<float>() + logProbs[0, 15, 42].item<float>();
        Assert.Equal(expected, scored.Results[0].Value, 1e-4); // a batch of 2 with padding vs this forward alone: fp32 rounding
    }

    [Fact]
    public void TokenizationSplitsTheWholeEncodingAtTheContextsLength()
    {
        // The context's trailing space moves to the continuation (the harness's _encode_pair).
        var request = TokenizedRequest.Encode(Demo, "Answer: ", "copper");
        var context = Demo.Encode("Answer:");
        Assert.Equal(context, request.Context);
        Assert.Equal(Demo.Encode("Answer: copper").Skip(context.Count), request.Continuation);
        Assert.Equal([Demo.EndOfDocumentId], TokenizedRequest.Encode(Demo, "", " copper").Context);
    }

    [Fact]
    public void AccAndAccNormDisagreeWhenTheLikelierChoiceIsShorterPerCharacter()
    {
        // Uniform model: log-likelihood = -tokens * ln 8320. " a" is one token (1 character); the long choice has
        // more tokens (so acc picks "a") but far more characters per token (so acc_norm picks it).
        using var dir = new TempFolder();
        WriteSplit(dir.Path, "piqa", "validation", """{"goal": "Which is it?", "sol1": "a", "sol2": "the house is red and green", "label": 1}""");
        var task = HarnessTasks.Get("piqa");
        var split = TaskSplit.Load(task, dir.Path, "validation");
        Assert.Single(Demo.Encode(" a"));
        Assert.InRange(Demo.Encode(" the house is red and green").Count, 2, 25);
        using var model = UniformModel();
        var result = TaskEvaluator.Run(task, split, null, 0, new EvalOptions(), Demo, new LoglikelihoodScorer(model, CPU, 4), step: 5);
        Assert.Equal(0.0, result.Acc);
        Assert.Equal(1.0, result.AccNorm);
        Assert.Single(split.Docs);
        Assert.Equal(2, result.Requests);
    }

    [Fact]
    public void AccNormDividesByCodePointsLikePythonsLen()
    {
        // "é😀" is 2 code points, 3 UTF-16 units, 6 UTF-8 bytes. With log-likelihoods -3 and -3.6, code points give
        // -1.5 vs -1.2 (choice 1); dividing by UTF-16 units (-1) or bytes (-0.5) would pick choice 0.
        var doc = new EvalDoc { Query = "q", Choices = ["é😀", "abc"], Gold = 1 };
        Assert.Equal(2, MultipleChoiceScoring.CharacterLength("é😀"));
        Assert.Equal((false, true), MultipleChoiceScoring.Judge(doc, [-3.0, -3.6]));
    }

    [Fact]
    public void StandardErrorIsTheSampleDeviationOverRootN()
    {
        var m = MeanWithError.Of([true, false, true, true]);
        Assert.Equal(0.75, m.Mean, 12);
        Assert.Equal(0.25, m.StdErr, 12);   // sqrt((3 * 0.0625 + 0.5625) / 3) / sqrt(4)
    }
}
