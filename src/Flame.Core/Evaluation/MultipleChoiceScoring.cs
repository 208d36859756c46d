using Flame.Evaluation.Tasks;

namespace Flame.Evaluation;

/// <summary>
/// The harness's multiple-choice metrics for one document: acc takes the choice with the highest
/// log-likelihood; acc_norm divides each log-likelihood by the length of the choice's text (Python's len:
/// Unicode code points, the choice without the leading delimiter; equal to the UTF-8 byte length for ASCII
/// text). Ties go to the first choice, as numpy's argmax does.
/// </summary>
public static class MultipleChoiceScoring
{
    public static (bool Acc, bool AccNorm) Judge(EvalDoc doc, IReadOnlyList<double> logLikelihoods)
    {
        if (logLikelihoods.Count != doc.Choices.Count) throw new ArgumentException("one log-likelihood per choice");
        int best = 0, bestNorm = 0;
        double bestNormValue = double.NegativeInfinity;
        for (int i = 0; i < logLikelihoods.Count; i++)
        {
            if (logLikelihoods[i] > logLikelihoods[best]) best = i;
            double norm = logLikelihoods[i] / CharacterLength(doc.Choices[i]);
            if (i == 0 || norm > bestNormValue) { bestNorm = i; bestNormValue = norm; }
        }
        return (best == doc.Gold, bestNorm == doc.Gold);
    }

    /// <summary>Python's len of a str: code points, not UTF-16 units.</summary>
    public static int CharacterLength(string text)
    {
        int count = 0;
        foreach (var _ in text.EnumerateRunes()) count++;
        return count;
    }
}

/// <summary>Mean of 0/1 outcomes with the harness's standard error: sample standard deviation (n - 1) over sqrt(n).</summary>
public readonly record struct MeanWithError(double Mean, double StdErr)
{
    public static MeanWithError Of(IReadOnlyList<bool> outcomes)
    {
        int n = outcomes.Count;
        if (n == 0) return new(double.NaN, double.NaN);
        double mean = outcomes.Count(o => o) / (double)n;
        if (n < 2) return new(mean, 0);
        double squares = outcomes.Sum(o => ((o ? 1 : 0) - mean) * ((o ? 1 : 0) - mean));
        return new(mean, Math.Sqrt(squares / (n - 1)) / Math.Sqrt(n));
    }
}
