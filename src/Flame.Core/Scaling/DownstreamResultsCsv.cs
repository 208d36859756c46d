using System.Globalization;

namespace Flame.Scaling;

/// <summary>
/// Reads evaluation results for the downstream fit: a header naming <c>loss, accuracy</c> and optionally
/// <c>task</c> (without it every row belongs to the task "all"); other columns are ignored. Plain
/// comma-separated values, no quoting. A bad row is a <see cref="UserError"/> naming the file, line and column.
/// </summary>
public static class DownstreamResultsCsv
{
    public const string AllTasks = "all";

    public static IReadOnlyList<DownstreamResult> Read(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: no such file");
        return Parse(File.ReadLines(path), path);
    }

    public static IReadOnlyList<DownstreamResult> Parse(IEnumerable<string> lines, string source) =>
        ResultsCsvReader.Read(lines, source, ["loss", "accuracy"], "loss, accuracy and optionally task").Select(row =>
        {
            string task = row.Has("task") && row.Text("task").Length > 0 ? row.Text("task") : AllTasks;
            return new DownstreamResult(task, row.Number("loss"), row.Number("accuracy", positive: false));
        }).ToList();
}
