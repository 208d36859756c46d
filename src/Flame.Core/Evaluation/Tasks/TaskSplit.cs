namespace Flame.Evaluation.Tasks;

/// <summary>
/// The documents of one split of a task, in file order. Rows with a missing or unusable field are counted and
/// skipped (the harness would crash on them); <see cref="BadRowExamples"/> keeps the first few reasons.
/// </summary>
public sealed record TaskSplit(string Split, IReadOnlyList<string> Files, IReadOnlyList<EvalDoc> Docs, int BadRows, IReadOnlyList<string> BadRowExamples)
{
    public static TaskSplit Load(TaskDefinition task, string dataDir, string split)
    {
        var files = TaskFiles.Find(task, dataDir, split);
        var docs = new List<EvalDoc>();
        var examples = new List<string>();
        int bad = 0;
        foreach (var file in files)
            foreach (var row in TaskRows.Read(file))
            {
                string? error = row.Error;
                if (row.Row is not null)
                {
                    try { docs.Add(task.Parse(row.Row) with { Row = row.Row }); }
                    catch (BadRowException e) { error = e.Message; }
                }
                if (error is null) continue;
                bad++;
                if (examples.Count < 5) examples.Add($"{Path.GetFileName(row.File)} row {row.Number}: {error}");
            }
        if (docs.Count == 0)
            throw new UserError($"{task.Name}: no usable rows in {string.Join(", ", files)} ({bad} bad; " +
                                $"{(examples.Count > 0 ? examples[0] : "the file is empty")}); rows need fields {string.Join(", ", task.Fields)}");
        return new TaskSplit(split, files, docs, bad, examples);
    }
}
