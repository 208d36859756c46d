using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flame.Evaluation;

/// <summary>The JSON form of evaluation results (snake_case, as the CLI's --json uses), written atomically.</summary>
public static class EvalJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Write<T>(string path, T value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        Output.OutputFiles.WriteText(path, JsonSerializer.Serialize(value, Options));
    }

    public static T Read<T>(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: no such file");
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new UserError($"{path}: not an evaluation result ({e.Message})"); }
    }
}
