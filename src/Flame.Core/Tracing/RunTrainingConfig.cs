using System.Globalization;
using System.Text.Json;
using Flame.Checkpointing;
using Flame.Output;
using Flame.Training;

namespace Flame.Tracing;

/// <summary>
/// A run folder's config.json (the trainer's <see cref="TrainingConfig"/>) and its data path, resolved.
/// The trainer writes config.json for every run it trains, also when it is used without `flame run|train`
/// (which add config.toml), so this is the record every trained run has.
/// </summary>
public static class RunTrainingConfig
{
    public static TrainingConfig? Read(string runDirectory)
    {
        var path = RunFiles.ConfigJson(runDirectory);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<TrainingConfig>(File.ReadAllText(path)); }
        catch (JsonException e) { throw new UserError($"{path}: not a training config ({e.Message})"); }
    }

    /// <summary>
    /// Dataset prefixes as recorded, or, when a relative one no longer resolves from here, the same file
    /// name under RUN/data (where `flame train` prepares the demo corpus).
    /// </summary>
    public static IReadOnlyList<string> ResolveData(IReadOnlyList<string> words, string runDirectory) =>
        words.Select(w =>
        {
            if (double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out _)) return w;
            if (File.Exists(w + ".idx")) return w;
            var beside = Path.Combine(RunFiles.Data(runDirectory), Path.GetFileName(w));
            return File.Exists(beside + ".idx") ? beside : w;
        }).ToList();

    /// <summary>The tokenizer a run used, as TokenizerLoader takes it (see TrainedCheckpoint).</summary>
    public static string? Tokenizer(string runDirectory)
    {
        var json = RunFiles.TokenizerJson(runDirectory);
        if (File.Exists(json)) return Path.GetFullPath(json);
        var named = RunFiles.TokenizerText(runDirectory);
        return File.Exists(named) ? File.ReadAllText(named).Trim() : null;
    }
}
