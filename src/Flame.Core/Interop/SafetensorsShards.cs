using System.Text.Json;

namespace Flame.Interop;

/// <summary>
/// Writes a model's tensors the way Hugging Face lays them out: one model.safetensors when they fit in
/// <c>maxShardBytes</c>, else model-0000i-of-0000n.safetensors shards (tensors kept whole, in order) plus
/// model.safetensors.index.json naming each tensor's shard and the total size.
/// </summary>
public static class SafetensorsShards
{
    /// <returns>the files written, relative to <paramref name="folder"/>.</returns>
    public static IReadOnlyList<string> Write(string folder, IReadOnlyList<PendingTensor> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (maxShardBytes <= 0) throw new UserError($"shard size must be positive (got {maxShardBytes} bytes)");
        Directory.CreateDirectory(folder);
        var shards = Split(tensors, maxShardBytes);
        // Shards of an earlier, larger export would be read as part of this one by tools that glob.
        foreach (var stale in Directory.GetFiles(folder, "model-*-of-*.safetensors"))
            File.Delete(stale);
        var index = Path.Combine(folder, SafetensorsFolder.IndexFile);
        if (shards.Count == 1)
        {
            SafetensorsWriter.Write(Path.Combine(folder, SafetensorsFolder.SingleFile), shards[0], metadata);
            if (File.Exists(index)) File.Delete(index); // a stale index would win over the single file
            return [SafetensorsFolder.SingleFile];
        }
        var names = new List<string>();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            var name = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafetensorsWriter.Write(Path.Combine(folder, name), shards[i], metadata);
            foreach (var t in shards[i]) weightMap[t.Name] = name;
            names.Add(name);
        }
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, long> { ["total_size"] = tensors.Sum(t => t.ByteCount) },
            ["weight_map"] = weightMap,
        }, new JsonSerializerOptions { WriteIndented = true });
        Output.OutputFiles.WriteText(index, json);
        var single = Path.Combine(folder, SafetensorsFolder.SingleFile);
        if (File.Exists(single)) File.Delete(single);
        names.Add(SafetensorsFolder.IndexFile);
        return names;
    }

    /// <summary>Greedy: a new shard starts when the next tensor would push the current one past the limit.</summary>
    static List<List<PendingTensor>> Split(IReadOnlyList<PendingTensor> tensors, long maxShardBytes)
    {
        var shards = new List<List<PendingTensor>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            if (shards[^1].Count > 0 && size + t.ByteCount > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(t);
            size += t.ByteCount;
        }
        return shards;
    }
}
