using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flame.Evaluation.Tasks;

/// <summary>Reads the fields of a dataset row (JSON or a Parquet row turned into JSON); a missing or mistyped field is a bad row.</summary>
public static class RowFields
{
    public static string Text(JsonObject row, string name)
    {
        var node = row[name] ?? throw new BadRowException($"missing field \"{name}\"");
        if (node is JsonValue value && value.TryGetValue<string>(out var text)) return text;
        // Labels come as strings in some releases and numbers in others.
        if (node is JsonValue number && number.GetValueKind() == JsonValueKind.Number) return number.ToJsonString();
        throw new BadRowException($"field \"{name}\" is not text");
    }

    public static int Integer(JsonObject row, string name)
    {
        var text = Text(row, name).Trim();
        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value : throw new BadRowException($"field \"{name}\" is not an integer (\"{text}\")");
    }

    public static IReadOnlyList<string> TextList(JsonObject row, string name, string? inner = null)
    {
        JsonNode? node = row[name] ?? throw new BadRowException($"missing field \"{name}\"");
        var path = name;
        if (inner is not null)
        {
            node = (node as JsonObject)?[inner] ?? throw new BadRowException($"missing field \"{name}.{inner}\"");
            path = $"{name}.{inner}";
        }
        if (node is not JsonArray array) throw new BadRowException($"field \"{path}\" is not a list");
        var list = new List<string>(array.Count);
        foreach (var item in array)
            list.Add(item is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new BadRowException($"field \"{path}\" holds a non-text entry"));
        if (list.Count == 0) throw new BadRowException($"field \"{path}\" is empty");
        return list;
    }

    public static int Gold(int index, int choices, string what) =>
        index >= 0 && index < choices ? index : throw new BadRowException($"{what} does not name one of the {choices} choices");
}
