using System.Text.Json;

namespace Flame.Plots;

/// <summary>A drawn figure: its file (without .png/.svg), title, and the one-line caption saying what it shows.</summary>
public sealed record PlotEntry(string File, string Title, string Caption, string Section);

/// <summary>plots/index.json: the figures an analysis drew, in reading order, for the report.</summary>
public static class PlotIndex
{
    public const string FileName = "index.json";
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Write(string folder, IReadOnlyList<PlotEntry> entries)
    {
        var path = Path.Combine(folder, FileName);
        Output.OutputFiles.WriteText(path, JsonSerializer.Serialize(entries, Options));
    }

    public static IReadOnlyList<PlotEntry> Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<List<PlotEntry>>(File.ReadAllText(path), Options) ?? []; }
        catch (JsonException) { return []; }
    }
}
