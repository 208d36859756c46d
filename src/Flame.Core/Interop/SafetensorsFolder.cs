using System.Text.Json;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// The weights of a Hugging Face model folder: model.safetensors, or shards listed by
/// model.safetensors.index.json ({"metadata": {...}, "weight_map": {tensor: shard file}}). Each shard is
/// memory-mapped; tensors are read one at a time by name.
/// </summary>
public sealed class SafetensorsFolder : IDisposable
{
    public const string SingleFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    readonly Dictionary<string, SafetensorsFile> _shardOf;
    readonly List<SafetensorsFile> _files;

    public string Folder { get; }
    /// <summary>Every tensor name, in a stable order (shard by shard, then by offset).</summary>
    public IReadOnlyList<string> Names { get; }

    SafetensorsFolder(string folder, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> shardOf, IReadOnlyList<string> names)
    {
        Folder = folder;
        _files = files;
        _shardOf = shardOf;
        Names = names;
    }

    public static SafetensorsFolder Open(string folder)
    {
        var index = Path.Combine(folder, IndexFile);
        var single = Path.Combine(folder, SingleFile);
        if (File.Exists(index)) return OpenSharded(folder, index);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            var names = file.Header.Entries.OrderBy(e => e.Begin).Select(e => e.Name).ToList();
            return new SafetensorsFolder(folder, [file], names.ToDictionary(n => n, _ => file), names);
        }
        throw new UserError($"{folder}: no {SingleFile} or {IndexFile}");
    }

    static SafetensorsFolder OpenSharded(string folder, string index)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(index));
            if (!json.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new UserError($"{index}: no weight_map object");
            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in map.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String) throw new UserError($"{index}: weight_map entry '{item.Name}' is not a file name");
                weightMap[item.Name] = item.Value.GetString()!;
            }
        }
        catch (JsonException e) { throw new UserError($"{index}: not valid JSON ({e.Message})"); }

        var files = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var shard in weightMap.Values.Distinct().Order(StringComparer.Ordinal))
            {
                if (shard.Contains('/') || shard.Contains('\\') || shard.Contains(".."))
                    throw new UserError($"{index}: shard name '{shard}' must be a file in the same folder");
                var path = Path.Combine(folder, shard);
                if (!File.Exists(path)) throw new UserError($"{index}: shard {shard} is missing");
                files[shard] = SafetensorsFile.Open(path);
            }
            var shardOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (name, shard) in weightMap)
            {
                if (!files[shard].Contains(name)) throw new UserError($"{index}: tensor '{name}' is listed in {shard}, which does not hold it");
                shardOf[name] = files[shard];
            }
            foreach (var file in files.Values)
                foreach (var entry in file.Header.Entries)
                    if (!weightMap.ContainsKey(entry.Name))
                        throw new UserError($"{file.Path}: tensor '{entry.Name}' is not listed in {IndexFile}");
            var names = files.SelectMany(f => f.Value.Header.Entries.OrderBy(e => e.Begin)
                .Where(e => weightMap[e.Name] == f.Key).Select(e => e.Name)).ToList();
            return new SafetensorsFolder(folder, files.Values.ToList(), shardOf, names);
        }
        catch
        {
            foreach (var f in files.Values) f.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _shardOf.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        _shardOf.TryGetValue(name, out var file) ? file.Entry(name) : throw new UserError($"{Folder}: no tensor '{name}'");

    /// <summary>A new CPU tensor with the named tensor's data.</summary>
    public Tensor Read(string name) =>
        _shardOf.TryGetValue(name, out var file) ? file.Read(name) : throw new UserError($"{Folder}: no tensor '{name}'");

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
