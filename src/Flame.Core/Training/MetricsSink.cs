using System.Text.Json;
using TorchSharp;

namespace Flame.Training;

/// <summary>
/// Where the trainer's numbers go: one JSON object per line in metrics.jsonl (read by other tools and the
/// report) and TensorBoard event files under tensorboard/ (TorchSharp's SummaryWriter).
/// </summary>
public sealed class MetricsSink
{
    public const string FileName = "metrics.jsonl";
    readonly string _path;
    readonly TorchSharp.Modules.SummaryWriter _tensorboard;

    public MetricsSink(string runDirectory)
    {
        _path = Path.Combine(runDirectory, FileName);
        _tensorboard = torch.utils.tensorboard.SummaryWriter(Path.Combine(runDirectory, "tensorboard"));
    }

    /// <summary>Starts a fresh file, or keeps only steps up to <paramref name="resumeStep"/> (those after it run again).</summary>
    public void Reset(long? resumeStep)
    {
        if (!File.Exists(_path)) return;
        if (resumeStep is not long step) { File.Delete(_path); return; }
        var kept = File.ReadAllLines(_path)
            .Where(line => line.Length > 0 && JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt64() <= step);
        File.WriteAllLines(_path, kept);
    }

    public void Write(long step, IReadOnlyDictionary<string, double?> scalars, IReadOnlyList<ExpertLoad>? load = null)
    {
        var line = new Dictionary<string, object?> { ["step"] = step };
        foreach (var (name, value) in scalars)
        {
            if (value is not double v) continue;
            line[name] = double.IsFinite(v) ? v : v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            _tensorboard.add_scalar(name, (float)v, (int)step);
        }
        if (load is { Count: > 0 })
        {
            line["expert_load"] = load.Select(l => new Dictionary<string, object>
                { ["layer"] = l.Layer, ["max_over_mean"] = l.MaxOverMean, ["entropy"] = l.Entropy }).ToList();
            foreach (var l in load)
            {
                _tensorboard.add_scalar($"expert_load/layer_{l.Layer:D2}/max_over_mean", (float)l.MaxOverMean, (int)step);
                _tensorboard.add_scalar($"expert_load/layer_{l.Layer:D2}/entropy", (float)l.Entropy, (int)step);
            }
        }
        File.AppendAllText(_path, JsonSerializer.Serialize(line) + "\n");
    }
}
