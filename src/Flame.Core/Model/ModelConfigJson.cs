using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flame.Model;

/// <summary>
/// The one JSON form of a resolved <see cref="ModelConfig"/> (snake_case keys, as `model info --json` and
/// `--set` use), stored as model.json in every checkpoint so a checkpoint loads without its preset.
/// </summary>
public static class ModelConfigJson
{
    public const string FileName = "model.json";

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        IgnoreReadOnlyProperties = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(ModelConfig config) => JsonSerializer.Serialize(config, Options);

    public static ModelConfig Deserialize(string json, string source)
    {
        try
        {
            return (JsonSerializer.Deserialize<ModelConfig>(json, Options) ?? throw new JsonException("empty")).Validate();
        }
        catch (JsonException e)
        {
            throw new UserError($"{source}: not a model config ({e.Message})");
        }
    }

    public static void Write(string folder, ModelConfig config) =>
        File.WriteAllText(Path.Combine(folder, FileName), Serialize(config));

    public static ModelConfig Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new UserError($"{folder}: no {FileName} (not a Flame checkpoint)");
        return Deserialize(File.ReadAllText(path), path);
    }
}
