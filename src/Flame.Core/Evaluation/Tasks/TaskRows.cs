using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet.Serialization;

namespace Flame.Evaluation.Tasks;

/// <summary>A row of a task file: its JSON object, or why it could not be read (counted as a bad row).</summary>
public sealed record TaskRow(string File, long Number, JsonObject? Row, string? Error);

/// <summary>
/// Reads the rows of task files: JSON lines, or Parquet (Hugging Face's format), whose nested columns (ARC's
/// struct of lists, HellaSwag's list of endings) are turned into the same JSON shape the .jsonl release has.
/// Task files are small (at most tens of thousands of rows), so a Parquet file is read whole.
/// </summary>
public static class TaskRows
{
    public static IEnumerable<TaskRow> Read(string path) =>
        path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? ReadParquet(path) : ReadJsonLines(path);

    static IEnumerable<TaskRow> ReadJsonLines(string path)
    {
        long number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject? row = null;
            string? error = null;
            try { row = JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not a JSON object"); }
            catch (JsonException e) { error = $"malformed JSON ({e.Message.Split('.')[0]})"; }
            yield return new TaskRow(path, number, row, error);
        }
    }

    static IEnumerable<TaskRow> ReadParquet(string path)
    {
        IList<Dictionary<string, object>> data;
        try
        {
            using var stream = File.OpenRead(path);
            data = ParquetSerializer.DeserializeUntypedAsync(stream).GetAwaiter().GetResult().Data;
        }
        catch (Exception e) when (e is not UserError)
        {
            throw new UserError($"{path}: not a readable Parquet file ({e.Message})");
        }
        long number = 0;
        foreach (var record in data)
        {
            number++;
            yield return new TaskRow(path, number, (JsonObject)ToJson(record)!, null);
        }
    }

    static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        byte[] bytes => JsonValue.Create(System.Text.Encoding.UTF8.GetString(bytes)),
        IDictionary<string, object> map => new JsonObject(map.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value)))),
        IDictionary map => new JsonObject(map.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, ToJson(map[k])))),
        IEnumerable items => new JsonArray(items.Cast<object?>().Select(ToJson).ToArray()),
        sbyte or byte or short or ushort or int or uint or long or ulong => JsonValue.Create(Convert.ToInt64(value)),
        float or double or decimal => JsonValue.Create(Convert.ToDouble(value)),
        _ => JsonValue.Create(value.ToString()),
    };
}
