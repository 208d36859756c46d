using System.Text.Json;
using Flame.Plots;

namespace Flame.Reporting.Plots;

/// <summary>Training (lm_loss) and validation (val_loss) loss against step, from a run's metrics.jsonl.</summary>
public static class LossCurvePlot
{
    /// <summary>Draws RUN/metrics.jsonl to PATH.png/.svg; false when there is nothing to draw.</summary>
    public static bool Save(string metricsPath, string path)
    {
        if (!File.Exists(metricsPath)) return false;
        var train = new List<(double, double)>();
        var valid = new List<(double, double)>();
        foreach (var line in File.ReadLines(metricsPath))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement row;
            try { row = JsonDocument.Parse(line).RootElement; }
            catch (JsonException) { continue; }                      // a half-written last line
            if (!row.TryGetProperty("step", out var step) || step.ValueKind != JsonValueKind.Number) continue;
            if (row.TryGetProperty("lm_loss", out var lm) && lm.ValueKind == JsonValueKind.Number) train.Add((step.GetDouble(), lm.GetDouble()));
            if (row.TryGetProperty("val_loss", out var vl) && vl.ValueKind == JsonValueKind.Number) valid.Add((step.GetDouble(), vl.GetDouble()));
        }
        var series = new List<Series>();
        if (train.Count > 0) series.Add(new("training (lm_loss)", train.Select(p => p.Item1).ToArray(), train.Select(p => p.Item2).ToArray()));
        if (valid.Count > 0) series.Add(new("validation (val_loss)", valid.Select(p => p.Item1).ToArray(), valid.Select(p => p.Item2).ToArray()));
        if (series.Count == 0) return false;
        LineChart.Save(path, "Loss", "step", "cross-entropy (nats)", series);
        return true;
    }
}
