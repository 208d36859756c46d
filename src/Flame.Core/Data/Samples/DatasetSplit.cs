namespace Flame.Data.Samples;

public enum SplitName { Train, Valid, Test }

/// <summary>
/// Megatron's train/valid/test split by documents: the weights are normalised, each split gets
/// round(weight * documents) consecutive documents, and any rounding excess is taken off the later
/// boundaries so the last split ends exactly at the last document.
/// </summary>
public static class DatasetSplit
{
    public static readonly double[] Default = [90, 5, 5];

    public static double[] Parse(string text)
    {
        var parts = text.Split([',', '/'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var weights = new double[3];
        for (int i = 0; i < parts.Length; i++)
            if (i >= 3 || !double.TryParse(parts[i], System.Globalization.CultureInfo.InvariantCulture, out weights[i]) || weights[i] < 0)
                throw new UserError($"split \"{text}\" must be up to three non-negative numbers like 90,5,5");
        if (weights.Sum() <= 0) throw new UserError($"split \"{text}\" has no positive weight");
        return weights;
    }

    /// <summary>The document range [Start, End) of one split among documentCount documents.</summary>
    public static (long Start, long End) Range(long documentCount, IReadOnlyList<double> weights, SplitName split)
    {
        double total = weights.Sum();
        var bounds = new long[weights.Count + 1];
        for (int i = 0; i < weights.Count; i++)
            bounds[i + 1] = bounds[i] + (long)Math.Round(weights[i] / total * documentCount, MidpointRounding.ToEven);
        long excess = bounds[^1] - documentCount;
        for (int i = 1; i < bounds.Length; i++) bounds[i] -= excess;
        int k = (int)split;
        if (k >= weights.Count) return (documentCount, documentCount); // a split with no weight given is empty
        return (Math.Max(0, bounds[k]), Math.Max(0, bounds[k + 1]));
    }
}
