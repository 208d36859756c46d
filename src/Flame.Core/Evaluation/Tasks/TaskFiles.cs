namespace Flame.Evaluation.Tasks;

/// <summary>
/// Where a task's split lives under the data folder: DATA/&lt;task&gt;/&lt;split&gt;.jsonl, &lt;split&gt;.parquet, or
/// Hugging Face's parquet shards &lt;split&gt;-NNNNN-of-NNNNN.parquet (read in name order). The folder may also
/// carry the dataset's own config name (ARC-Easy, ARC-Challenge, main, winogrande_xl).
/// </summary>
public static class TaskFiles
{
    public static IReadOnlyList<string> Find(TaskDefinition task, string dataDir, string split)
    {
        if (!Directory.Exists(dataDir)) throw new UserError($"task data folder {dataDir} does not exist");
        foreach (var name in task.Folders)
        {
            var folder = Path.Combine(dataDir, name);
            if (!Directory.Exists(folder)) continue;
            foreach (var single in new[] { $"{split}.jsonl", $"{split}.parquet" })
                if (File.Exists(Path.Combine(folder, single))) return [Path.Combine(folder, single)];
            var shards = Directory.GetFiles(folder, $"{split}-*.parquet").Order(StringComparer.Ordinal).ToList();
            if (shards.Count > 0) return shards;
        }
        throw new UserError(
            $"{task.Name}: no {split} split: expected {Path.Combine(dataDir, task.Folders[0], split)}.jsonl (or {split}.parquet, " +
            $"or {split}-*.parquet shards; folder {string.Join(" or ", task.Folders)}) in folder {dataDir}, rows from {task.Dataset} " +
            $"with fields {string.Join(", ", task.Fields)}");
    }
}
