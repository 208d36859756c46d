using System.Text.Json;

namespace Flame.Evaluation;

/// <summary>
/// One evaluated document as <c>flame eval --log-samples</c> writes it: its index in the evaluated split, the
/// scored (context, continuation) pairs, their log-likelihoods and greedy flags, the gold index and the
/// document's acc and acc_norm (1 or 0; acc_norm null where the harness reports only acc). The fields line up
/// with the harness's --log_samples entries (doc_id, arguments, resps, target, acc, acc_norm), so the two can be
/// compared document by document.
/// </summary>
public sealed record DocumentSample(int DocId, IReadOnlyList<string[]> Requests, IReadOnlyList<double> Loglikelihoods,
                                    IReadOnlyList<bool> IsGreedy, int Gold, double Acc, double? AccNorm);

/// <summary>Writes RUN/eval/samples_&lt;task&gt;.jsonl: one <see cref="DocumentSample"/> per line, in document order.</summary>
public static class SampleLog
{
    public static string FileName(string task) => $"samples_{task}.jsonl";

    static readonly JsonSerializerOptions Options = new(EvalJson.Options) { WriteIndented = false };

    public static void Write(string path, IEnumerable<DocumentSample> samples)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Output.OutputFiles.Write(path, temp =>
        {
            using var writer = new StreamWriter(temp);
            writer.NewLine = "\n";
            foreach (var sample in samples) writer.WriteLine(JsonSerializer.Serialize(sample, Options));
        });
    }
}
