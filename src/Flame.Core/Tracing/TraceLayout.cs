using System.Globalization;
using System.Text.RegularExpressions;

namespace Flame.Tracing;

/// <summary>
/// File names of the published FLAME-MoE trace layout (spec §5, Hugging Face CMU-FLAME/FLAME-MoE-Traces):
/// samples/NNN.parquet (token_id), actives/iter_NNNN/layer_NN.parquet (scores, indices), plus this
/// platform's manifest.json. Layers are numbered from 1 as in Megatron-LM, so FLAME-MoE's first MoE layer
/// (0-based model layer 1, after the dense layer) is layer_02, as in the published traces. Readers accept
/// any zero padding; writers use the published four digits (iter_0540), not Megatron's seven of its checkpoints.
/// </summary>
public static partial class TraceLayout
{
    public const string SamplesFolder = "samples";
    public const string ActivesFolder = "actives";
    public const string ManifestFile = "manifest.json";
    public const string TokenColumn = "token_id";
    public const string SampleColumn = "sample";
    public const string PositionColumn = "position";
    public const string ScoresColumn = "scores";
    public const string IndicesColumn = "indices";

    public static string SamplesFile(int index) => $"{index:D3}.parquet";
    /// <summary>iter_0540, four digits at least, as the published traces name their folders (spec §7).</summary>
    public static string CheckpointFolder(long step) => $"iter_{step:D4}";
    public static string LayerFile(int layerNumber) => $"layer_{layerNumber:D2}.parquet";

    /// <summary>The published layer number (1-based) of a 0-based model layer.</summary>
    public static int LayerNumber(int modelLayer) => modelLayer + 1;

    public static long? ParseCheckpoint(string folderName) =>
        IterPattern().Match(folderName) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    public static int? ParseLayer(string fileName) =>
        LayerPattern().Match(fileName) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    public static int? ParseSamplesFile(string fileName) =>
        SamplesPattern().Match(fileName) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    [GeneratedRegex(@"^iter_(\d{1,12})$")] private static partial Regex IterPattern();
    [GeneratedRegex(@"^layer_(\d{1,4})\.parquet$")] private static partial Regex LayerPattern();
    [GeneratedRegex(@"^(\d{1,9})\.parquet$")] private static partial Regex SamplesPattern();
}
