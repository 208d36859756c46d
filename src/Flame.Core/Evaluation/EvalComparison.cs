namespace Flame.Evaluation;

/// <summary>One row of a side-by-side comparison; a side is null where that run lacks the task.</summary>
public sealed record ComparisonRow(string Task, int? ShotsA, int? ShotsB, double? AccA, double? AccB, double? AccNormA, double? AccNormB)
{
    public double? AccDelta => AccA - AccB;
    public double? AccNormDelta => AccNormA - AccNormB;
}

/// <summary>
/// Two runs' summaries side by side (for example an MoE and a dense model of equal training FLOPs, the
/// comparison FLAME-MoE makes, spec §4): per task, then the averages over the tasks both runs have, so a
/// task one run lacks does not tilt the average.
/// </summary>
public sealed record EvalComparison(string RunA, string RunB, long StepA, long StepB, IReadOnlyList<ComparisonRow> Rows, ComparisonRow Average)
{
    /// <summary>A run folder (its eval/summary.json) or a summary.json path.</summary>
    public static EvalSummary LoadSummary(string runOrFile)
    {
        var path = File.Exists(runOrFile) ? runOrFile : Path.Combine(runOrFile, Evaluator.FolderName, Evaluator.SummaryFile);
        if (!File.Exists(path)) throw new UserError($"{runOrFile}: no {Path.Combine(Evaluator.FolderName, Evaluator.SummaryFile)} (run flame eval first)");
        return EvalJson.Read<EvalSummary>(path);
    }

    public static EvalComparison Of(string runA, string runB) => Of(runA, LoadSummary(runA), runB, LoadSummary(runB));

    public static EvalComparison Of(string runA, EvalSummary a, string runB, EvalSummary b)
    {
        var names = a.Tasks.Select(t => t.Task).Concat(b.Tasks.Select(t => t.Task)).Distinct().ToList();
        var rows = names.Select(name =>
        {
            var x = a.Tasks.FirstOrDefault(t => t.Task == name);
            var y = b.Tasks.FirstOrDefault(t => t.Task == name);
            return new ComparisonRow(name, x?.NumFewshot, y?.NumFewshot, x?.Acc, y?.Acc, x?.AccNorm, y?.AccNorm);
        }).ToList();
        var shared = rows.Where(r => r.AccA is not null && r.AccB is not null).ToList();
        double? Mean(Func<ComparisonRow, double?> pick) => shared.Count == 0 ? null : shared.Average(r => pick(r)!.Value);
        var average = new ComparisonRow("average", null, null, Mean(r => r.AccA), Mean(r => r.AccB), Mean(r => r.AccNormA), Mean(r => r.AccNormB));
        return new EvalComparison(runA, runB, a.CheckpointStep, b.CheckpointStep, rows, average);
    }
}
