using System.Text.Json;
using Flame.Output;
using TorchSharp;

namespace Flame.Training;

/// <summary>
/// Where the trainer's numbers go: one JSON object per line in metrics.jsonl (read by other tools and the
/// report) and TensorBoard event files under tensorboard/ (TorchSharp's SummaryWriter).
/// </summary>
public sealed class MetricsSink
{
    public const string FileName = RunFiles.Name.Metrics;
    readonly string _path;
    readonly TorchSharp.Modules.SummaryWriter _tensorboard;

    public MetricsSink(string runDirectory)
    {
        _path = RunFiles.Metrics(runDirectory);
        _tensorboard = torch.utils.tensorboard.SummaryWriter(RunFiles.TensorBoard(runDirectory));
    }

    /// <summary>
    /// Starts a fresh file, or keeps only steps up to <paramref name="resumeStep"/> (those after it run again). A last
    /// line that is not a record was torn by a process killed while writing it and is dropped (returns a note saying
    /// so); a bad line before the last is not ours to guess about and is an error naming it.
    /// </summary>
    public string? Reset(long? resumeStep)
    {
        if (!File.Exists(_path)) return null;
        if (resumeStep is not long step) { File.Delete(_path); return null; }
        var lines = File.ReadAllLines(_path);
        int last = Array.FindLastIndex(lines, line => line.Length > 0);
        var kept = new List<string>();
        string? note = null;
        for (int i = 0; i <= last; i++)
        {
            if (lines[i].Length == 0) continue;
            if (StepOf(lines[i]) is not long lineStep)
            {
                if (i < last)
                    throw new UserError($"{_path}: line {i + 1} is not a metrics record (a JSON object with a step); fix or remove that line, then resume again");
                note = $"{_path}: dropped its torn last line (line {i + 1}, cut off when the process was stopped while writing it)";
                continue;
            }
            if (lineStep <= step) kept.Add(lines[i]);
        }
        Output.OutputFiles.WriteText(_path, string.Concat(kept.Select(line => line + "\n")));
        return note;
    }

    static long? StepOf(string line)
    {
        try
        {
            using var record = JsonDocument.Parse(line);
            return record.RootElement.ValueKind == JsonValueKind.Object && record.RootElement.TryGetProperty("step", out var step)
                   && step.ValueKind == JsonValueKind.Number && step.TryGetInt64(out var value) ? value : null;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>A training log line: the losses (the load-balancing loss also as Megatron logs it), lr, norm, speed and expert load.</summary>
    public void Write(TrainingLog log, Model.ModelConfig model) =>
        Write(log.Step, new Dictionary<string, double?>
        {
            ["lm_loss"] = log.LmLoss, ["load_balancing_loss"] = log.LoadBalancingLoss, ["z_loss"] = log.ZLoss,
            [MegatronAuxLossLog.Field] = MegatronAuxLossLog.LoadBalancing(log.LoadBalancingLoss, model),
            ["lr"] = log.Lr, ["grad_norm"] = log.GradNorm, ["tokens_per_s"] = log.TokensPerSecond,
            ["model_tflops"] = log.ModelTflops, ["mfu"] = log.Mfu,
        }, log.ExpertLoad);

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
