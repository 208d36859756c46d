using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flame.Tracing;

/// <summary>
/// traces/manifest.json: what a capture recorded. Optional for reading: trace folders in the published
/// layout written elsewhere have none, and the analyses then take what they need from the files.
/// </summary>
public sealed record TraceManifest
{
    public string Format { get; init; } = "flame-moe-traces/1";
    public string Model { get; init; } = "";
    public int Experts { get; init; }
    public int TopK { get; init; }
    public int VocabSize { get; init; }
    /// <summary>Published (1-based) numbers of the MoE layers, as in the layer_NN file names.</summary>
    public IReadOnlyList<int> Layers { get; init; } = [];
    public IReadOnlyList<long> Checkpoints { get; init; } = [];
    public long Tokens { get; init; }
    public int Samples { get; init; }
    public int Sequence { get; init; }
    /// <summary>Where the tokens came from: data path, split and seed of the run.</summary>
    public IReadOnlyList<string> Data { get; init; } = [];
    public string Split { get; init; } = TraceSplit.Default;
    public long Seed { get; init; }
    /// <summary>As TokenizerLoader takes it (a built-in name or a tokenizer.json path), for decoding tokens.</summary>
    public string? Tokenizer { get; init; }

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static TraceManifest? Read(string traceFolder)
    {
        var path = Path.Combine(traceFolder, TraceLayout.ManifestFile);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<TraceManifest>(File.ReadAllText(path), Options); }
        catch (JsonException e) { throw new UserError($"{path}: not a trace manifest ({e.Message})"); }
    }

    public void Write(string traceFolder)
    {
        var path = Path.Combine(traceFolder, TraceLayout.ManifestFile);
        Output.OutputFiles.WriteText(path, JsonSerializer.Serialize(this, Options));
    }
}
