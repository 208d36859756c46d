namespace Flame.Evaluation.Tasks;

/// <summary>
/// Where a task's split lives under the data folder, in the layouts users download, none needing a rename:
/// <list type="bullet">
/// <item>DATA/&lt;task&gt;/&lt;split&gt;.jsonl or &lt;split&gt;.parquet;</item>
/// <item>Hugging Face shards &lt;split&gt;-NNNNN-of-NNNNN.parquet (read in name order), also in the repository's
/// data/ folder (Rowan/hellaswag: hellaswag/data/validation-00000-of-00001.parquet);</item>
/// <item>&lt;dataset&gt;_&lt;split&gt;.parquet or .jsonl (baber/piqa: piqa_validation.parquet; "val" also names the
/// validation split, as in hellaswag_val.jsonl of the original release);</item>
/// <item>Hugging Face's refs/convert/parquet revision, &lt;config&gt;/&lt;split&gt;/0000.parquet (ai2_arc/ARC-Easy/test/0000.parquet,
/// hellaswag/default/validation/0000.parquet).</item>
/// </list>
/// The folder is the task's name, its dataset's config name (ARC-Easy, ARC-Challenge, main, winogrande_xl) or the
/// dataset's repository name (ai2_arc, openbookqa, hellaswag, piqa, winogrande); a repository folder that holds
/// several tasks (ai2_arc) is searched only in this task's config folder. The first layout found is used; the
/// task's result names the files it read.
/// </summary>
public static class TaskFiles
{
    /// <summary>Config folders Hugging Face names when a dataset has a single config.</summary>
    static readonly string[] SingleConfigNames = ["default", "plain_text"];

    public static IReadOnlyList<string> Find(TaskDefinition task, string dataDir, string split)
    {
        if (!Directory.Exists(dataDir)) throw new UserError($"task data folder {dataDir} does not exist");
        foreach (var folder in Candidates(task, dataDir))
            if (Directory.Exists(folder) && InFolder(task, folder, split) is { Count: > 0 } files) return files;
        throw new UserError(
            $"{task.Name}: no {split} split: expected {Path.Combine(dataDir, task.Folders[0], split)}.jsonl (or {split}.parquet, " +
            $"{split}-*.parquet shards, data/{split}-*.parquet, {task.Repository}_{split}.parquet or <config>/{split}/0000.parquet; " +
            $"folder {string.Join(" or ", task.Folders.Append(task.Repository).Distinct())}) in folder {dataDir}, rows from {task.Dataset} " +
            $"with fields {string.Join(", ", task.Fields)}");
    }

    /// <summary>Folders that may hold the split's files, in the order they are tried.</summary>
    static IEnumerable<string> Candidates(TaskDefinition task, string dataDir)
    {
        var configs = task.Folders.Concat(SingleConfigNames).Distinct().ToList();
        foreach (var name in task.Folders.Append(task.Repository).Distinct())
        {
            var root = Path.Combine(dataDir, name);
            // A repository folder shared by several tasks (ai2_arc) holds each task only in its config folder.
            bool shared = !task.Folders.Contains(name) && HarnessTasks.All.Count(t => t.Repository == name) > 1;
            if (!shared)
            {
                yield return root;
                yield return Path.Combine(root, "data");
            }
            foreach (var config in configs)
                if (!shared || task.Folders.Contains(config)) yield return Path.Combine(root, config);
        }
    }

    static IReadOnlyList<string> InFolder(TaskDefinition task, string folder, string split)
    {
        var splitNames = split == "validation" ? new[] { split, "val" } : [split];
        foreach (var single in new[] { $"{split}.jsonl", $"{split}.parquet" })
            if (File.Exists(Path.Combine(folder, single))) return [Path.Combine(folder, single)];
        var shards = Directory.GetFiles(folder, $"{split}-*.parquet").Order(StringComparer.Ordinal).ToList();
        if (shards.Count > 0) return shards;
        foreach (var dataset in task.Folders.Append(task.Repository).Distinct())
            foreach (var name in splitNames)
                foreach (var extension in new[] { "parquet", "jsonl" })
                {
                    var path = Path.Combine(folder, $"{dataset}_{name}.{extension}");
                    if (File.Exists(path)) return [path];
                }
        var converted = Path.Combine(folder, split);
        if (Directory.Exists(converted))
        {
            var files = Directory.GetFiles(converted, "*.parquet").Order(StringComparer.Ordinal).ToList();
            if (files.Count > 0) return files;
        }
        return [];
    }
}
