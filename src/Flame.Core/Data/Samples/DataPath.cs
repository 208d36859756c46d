using System.Globalization;
using Flame.Data.Indexed;

namespace Flame.Data.Samples;

/// <summary>
/// Megatron's --data-path: either one prefix, or "weight prefix weight prefix ..." for a blend. Opens
/// the training stream the trainer reads.
/// </summary>
public sealed record DataPath(IReadOnlyList<(double Weight, string Prefix)> Parts)
{
    public static DataPath Parse(IReadOnlyList<string> words)
    {
        if (words.Count == 1) return new DataPath([(1.0, words[0])]);
        if (words.Count == 0 || words.Count % 2 != 0) throw new UserError($"data path \"{string.Join(' ', words)}\" must be PREFIX or pairs of WEIGHT PREFIX");
        var parts = new List<(double, string)>();
        for (int i = 0; i < words.Count; i += 2)
        {
            if (!double.TryParse(words[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !(weight > 0))
                throw new UserError($"data path weight \"{words[i]}\" is not a positive number");
            parts.Add((weight, words[i + 1]));
        }
        return new DataPath(parts);
    }

    /// <summary>
    /// The samples of one split. With a sample count, each dataset is sized like Megatron's blend
    /// (weight share of the total plus 0.5% slack, repeating epochs as needed); without one, the blend is
    /// as long as the datasets allow without repeating any.
    /// </summary>
    public OpenedSamples Open(GptSampleOptions options)
    {
        var readers = new List<IndexedDatasetReader>();
        try
        {
            foreach (var part in Parts) readers.Add(IndexedDatasetReader.Open(part.Prefix));
            return new OpenedSamples(Build(readers, options), readers);
        }
        catch
        {
            readers.ForEach(r => r.Dispose());
            throw;
        }
    }

    ISampleSource Build(List<IndexedDatasetReader> readers, GptSampleOptions options)
    {
        if (Parts.Count == 1) return new GptSampleDataset(readers[0], options);
        double total = Parts.Sum(p => p.Weight);
        var sources = new List<(ISampleSource, double)>();
        for (int i = 0; i < Parts.Count; i++)
        {
            double share = Parts[i].Weight / total;
            long? samples = options.Samples is long n ? (long)Math.Ceiling(share * n * 1.005) : null;
            sources.Add((new GptSampleDataset(readers[i], options with { Samples = samples }), share));
        }
        long count = options.Samples ?? sources.Min(s => (long)Math.Floor(s.Item1.Count / s.Item2 * 0.999));
        return new BlendedSampleDataset(sources, count);
    }
}
