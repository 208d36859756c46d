using System.Text.Json;
using System.Text.Json.Nodes;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace Flame.Evaluation.Tasks;

/// <summary>A row of a task file: its JSON object, or why it could not be read (counted as a bad row).</summary>
public sealed record TaskRow(string File, long Number, JsonObject? Row, string? Error);

/// <summary>
/// Reads the rows of task files: JSON lines, or Parquet (Hugging Face's format), whose nested columns (ARC's
/// struct of lists, HellaSwag's list of endings) are turned into the same JSON shape the .jsonl release has.
/// Task files are small (at most tens of thousands of rows), so a Parquet file is read whole, through Arrow's
/// reader (ParquetSharp).
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
        var rows = new List<JsonObject>();
        try
        {
            // Arrow's reader turns any nesting (structs, lists, lists of structs) into arrays, a record batch at a time.
            using var file = new ParquetSharp.Arrow.FileReader(path);
            using var batches = file.GetRecordBatchReader();
            while (batches.ReadNextRecordBatchAsync().AsTask().GetAwaiter().GetResult() is { } batch)
                using (batch)
                    for (int i = 0; i < batch.Length; i++)
                        rows.Add(new JsonObject(batch.Schema.FieldsList.Select((field, c) => KeyValuePair.Create(field.Name, ToJson(batch.Column(c), i)))));
        }
        catch (Exception e) when (e is not UserError)
        {
            throw new UserError($"{path}: not a readable Parquet file ({e.Message.Split('\n')[0].Trim()})");
        }
        long number = 0;
        foreach (var row in rows) yield return new TaskRow(path, ++number, row, null);
    }

    /// <summary>One cell as the JSON the .jsonl release holds: structs become objects, lists arrays.</summary>
    static JsonNode? ToJson(IArrowArray array, int index)
    {
        if (array.IsNull(index)) return null;
        return array switch
        {
            StringArray s => JsonValue.Create(s.GetString(index)),
            LargeStringArray s => JsonValue.Create(s.GetString(index)),
            BinaryArray b => JsonValue.Create(System.Text.Encoding.UTF8.GetString(b.GetBytes(index))),
            BooleanArray b => JsonValue.Create(b.GetValue(index)),
            Int8Array a => JsonValue.Create((long)a.GetValue(index)!.Value),
            Int16Array a => JsonValue.Create((long)a.GetValue(index)!.Value),
            Int32Array a => JsonValue.Create((long)a.GetValue(index)!.Value),
            Int64Array a => JsonValue.Create(a.GetValue(index)!.Value),
            UInt8Array a => JsonValue.Create((long)a.GetValue(index)!.Value),
            UInt16Array a => JsonValue.Create((long)a.GetValue(index)!.Value),
            UInt32Array a => JsonValue.Create((long)a.GetValue(index)!.Value),
            UInt64Array a => JsonValue.Create(checked((long)a.GetValue(index)!.Value)),
            HalfFloatArray h => JsonValue.Create((double)h.GetValue(index)!.Value),
            FloatArray f => JsonValue.Create((double)f.GetValue(index)!.Value),
            DoubleArray d => JsonValue.Create(d.GetValue(index)!.Value),
            ListArray list => Items(list.GetSlicedValues(index)),
            LargeListArray list => Items(list.GetSlicedValues(index)),
            StructArray record => new JsonObject(((StructType)record.Data.DataType).Fields
                .Select((field, c) => KeyValuePair.Create(field.Name, ToJson(record.Fields[c], index)))),
            DictionaryArray dictionary => ToJson(dictionary.Dictionary, DictionaryKey(dictionary.Indices, index)),
            _ => throw new NotSupportedException($"column type {array.Data.DataType.Name} is not read"),
        };
    }

    static JsonArray Items(IArrowArray items)
    {
        var result = new JsonArray();
        for (int i = 0; i < items.Length; i++) result.Add(ToJson(items, i));
        return result;
    }

    static int DictionaryKey(IArrowArray keys, int index) => keys switch
    {
        Int8Array k => k.GetValue(index)!.Value,
        Int16Array k => k.GetValue(index)!.Value,
        Int32Array k => k.GetValue(index)!.Value,
        Int64Array k => checked((int)k.GetValue(index)!.Value),
        _ => throw new NotSupportedException($"dictionary keys of type {keys.Data.DataType.Name}"),
    };
}
