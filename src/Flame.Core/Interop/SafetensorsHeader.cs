using System.Text;
using System.Text.Json;

namespace Flame.Interop;

/// <summary>
/// The parsed and checked JSON header of a safetensors file: every tensor's dtype, shape and byte range,
/// and the optional string-to-string "__metadata__". The checks are those of the reference implementation:
/// known dtypes, sizes that match the shapes, and byte ranges that tile the data section exactly (no
/// overlap, no gap, nothing past the end, nothing left over), so a truncated or corrupt file is named here
/// rather than read as garbage.
/// </summary>
public sealed record SafetensorsHeader(IReadOnlyList<SafetensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata)
{
    public const string MetadataKey = "__metadata__";
    /// <summary>The reference implementation's limit; a larger header is a corrupt length field.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <param name="json">the header bytes (UTF-8 JSON, possibly padded with trailing spaces).</param>
    /// <param name="dataLength">bytes after the header in the file.</param>
    /// <param name="source">the file, for messages.</param>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string source)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw new UserError($"{source}: safetensors header is not valid JSON ({e.Message})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new UserError($"{source}: safetensors header is not a JSON object");
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw new UserError($"{source}: tensor '{property.Name}' appears twice in the header");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, source);
                else entries.Add(ReadEntry(property.Name, property.Value, source));
            }
            CheckLayout(entries, dataLength, source);
            return new SafetensorsHeader(entries, metadata);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string source)
    {
        if (value.ValueKind != JsonValueKind.Object) throw new UserError($"{source}: {MetadataKey} is not a JSON object");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new UserError($"{source}: {MetadataKey} value '{item.Name}' is not a string");
            metadata[item.Name] = item.Value.GetString()!;
        }
    }

    static SafetensorsEntry ReadEntry(string name, JsonElement value, string source)
    {
        string where = $"{source}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object) throw new UserError($"{where}: header entry is not a JSON object");
        if (!value.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String)
            throw new UserError($"{where}: no dtype");
        var dtypeName = dtypeJson.GetString()!;
        if (!SafetensorsDType.TryParse(dtypeName, out var dtype))
            throw new UserError($"{where}: unknown dtype '{dtypeName}'; supported: {string.Join(", ", SafetensorsDType.Names)}");
        var shape = ReadIntegers(value, "shape", where);
        var offsets = ReadIntegers(value, "data_offsets", where);
        if (offsets.Length != 2 || offsets[0] > offsets[1])
            throw new UserError($"{where}: data_offsets must be [begin, end] with begin <= end (got [{string.Join(", ", offsets)}])");
        var entry = new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
        long expected;
        try { expected = checked(entry.ElementCount * SafetensorsDType.SizeOf(dtype)); }
        catch (OverflowException) { throw new UserError($"{where}: shape [{string.Join(", ", shape)}] is impossibly large"); }
        if (expected != entry.ByteCount)
            throw new UserError($"{where}: shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected} bytes but data_offsets span {entry.ByteCount}");
        return entry;
    }

    static long[] ReadIntegers(JsonElement value, string key, string where)
    {
        if (!value.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new UserError($"{where}: no {key} array");
        var result = new long[array.GetArrayLength()];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var number) || number < 0)
                throw new UserError($"{where}: {key} must hold non-negative integers");
            result[i++] = number;
        }
        return result;
    }

    static void CheckLayout(List<SafetensorsEntry> entries, long dataLength, string source)
    {
        long end = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.End > dataLength)
                throw new UserError($"{source}: tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] exceed the {dataLength} data bytes (file truncated?)");
            if (entry.Begin < end)
                throw new UserError($"{source}: tensors '{previous!.Name}' and '{entry.Name}' overlap (bytes {entry.Begin}..{end})");
            if (entry.Begin > end)
                throw new UserError($"{source}: {entry.Begin - end} unindexed bytes before tensor '{entry.Name}'");
            end = entry.End;
            previous = entry;
        }
        if (end != dataLength)
            throw new UserError($"{source}: {dataLength - end} bytes after the last tensor are not described by the header");
    }

    /// <summary>The header as written: tensors in the given order with contiguous offsets, padded with spaces to 8 bytes.</summary>
    public static byte[] Serialize(IEnumerable<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", SafetensorsDType.NameOf(entry.DType));
                writer.WriteStartArray("shape");
                foreach (var d in entry.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        var bytes = buffer.ToArray();
        int padded = (bytes.Length + 7) / 8 * 8;
        var result = new byte[padded];
        bytes.CopyTo(result, 0);
        result.AsSpan(bytes.Length).Fill((byte)' ');
        return result;
    }
}
