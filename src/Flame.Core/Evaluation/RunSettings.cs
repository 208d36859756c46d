using System.Text.Json;

namespace Flame.Evaluation;

/// <summary>
/// What a run's config.json (the trainer's TrainingConfig) says about its data: the data path, sequence length
/// and seed, so perplexity is measured on the same held-out split the trainer validated on. Missing values stay null.
/// </summary>
public sealed record RunSettings(IReadOnlyList<string>? Data, int? Sequence, long? Seed)
{
    public static RunSettings Read(string? runDirectory)
    {
        var path = runDirectory is null ? null : Output.RunFiles.ConfigJson(runDirectory);
        if (path is null || !File.Exists(path)) return new(null, null, null);
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var root = json.RootElement;
            JsonElement? Get(string name) => root.EnumerateObject().Where(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                .Select(p => (JsonElement?)p.Value).FirstOrDefault();
            var data = Get("Data") is { ValueKind: JsonValueKind.Array } d ? d.EnumerateArray().Select(e => e.GetString()!).ToList() : null;
            int? sequence = Get("Sequence") is { ValueKind: JsonValueKind.Number } s ? s.GetInt32() : null;
            long? seed = Get("Seed") is { ValueKind: JsonValueKind.Number } r ? r.GetInt64() : null;
            return new(data is { Count: > 0 } ? data : null, sequence, seed);
        }
        catch (JsonException) { return new(null, null, null); }
    }
}
