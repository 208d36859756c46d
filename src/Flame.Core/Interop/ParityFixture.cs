using System.Text.Json;
using System.Text.Json.Nodes;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// Fixed token ids and the logits this platform computes for them (fp32), written beside an export as
/// parity/tokens.json and parity/logits.safetensors; scripts/check-hf-parity.py runs the same ids through
/// transformers and compares.
/// </summary>
public static class ParityFixture
{
    public const string FolderName = "parity";
    public const string TokensFile = "tokens.json";
    public const string LogitsFile = "logits.safetensors";

    /// <returns>the files written, relative to the export folder.</returns>
    public static IReadOnlyList<string> Write(string exportFolder, FlameModel model, int sequences = 2, int length = 32, int seed = 1234)
    {
        var config = model.Config;
        length = Math.Min(length, config.MaxPositions);
        var random = new Random(seed);
        var ids = Enumerable.Range(0, sequences)
            .Select(_ => Enumerable.Range(0, length).Select(_ => (long)random.Next(0, config.VocabSize)).ToArray()).ToArray();
        var folder = Path.Combine(exportFolder, FolderName);
        Directory.CreateDirectory(folder);

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var device = model.embedding.device;
            var tokens = tensor(ids.SelectMany(r => r).ToArray(), [sequences, length]).to(device);
            var previous = model.ComputeType;
            model.ComputeType = ScalarType.Float32;
            try
            {
                var logits = model.forward(tokens).Logits.to(ScalarType.Float32).cpu();
                SafetensorsWriter.Write(Path.Combine(folder, LogitsFile), [PendingTensor.Of("logits", logits)],
                    new Dictionary<string, string> { ["format"] = "pt" });
            }
            finally { model.ComputeType = previous; }
        }
        var json = new JsonObject
        {
            ["input_ids"] = new JsonArray(ids.Select(r => (JsonNode)new JsonArray(r.Select(i => (JsonNode)i).ToArray())).ToArray()),
            ["dtype"] = "float32",
            ["tolerance"] = 1e-4,
        };
        File.WriteAllText(Path.Combine(folder, TokensFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return [Path.Combine(FolderName, TokensFile), Path.Combine(FolderName, LogitsFile)];
    }
}
