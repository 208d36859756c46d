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

    public static IReadOnlyList<DownstreamResult> Parse(IEnumerable<string> lines, string source)
    {
        string[]? header = null;
        var results = new List<DownstreamResult>();
        int lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var fields = raw.Split(',').Select(f => f.Trim()).ToArray();
            if (header is null)
            {
                header = fields.Select(f => f.ToLowerInvariant()).ToArray();
                foreach (var name in new[] { "loss", "accuracy" })
                    if (!header.Contains(name))
                        throw new UserError($"{source} line {lineNo}: missing column '{name}' (header: {raw.Trim()}; needs loss, accuracy and optionally task)");
                continue;
            }
            if (fields.Length != header.Length)
                throw new UserError($"{source} line {lineNo}: {fields.Length} fields, but the header has {header.Length}");
            double Number(string column, bool positive)
            {
                string text = fields[Array.IndexOf(header, column)];
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                    throw new UserError($"{source} line {lineNo} column '{column}': '{text}' is not a finite number");
                if (positive ? !(v > 0) : v < 0)
                    throw new UserError($"{source} line {lineNo} column '{column}': {text} must be {(positive ? "positive" : "0 or more")}");
                return v;
            }
            int taskColumn = Array.IndexOf(header, "task");
            string task = taskColumn >= 0 && fields[taskColumn].Length > 0 ? fields[taskColumn] : AllTasks;
            results.Add(new DownstreamResult(task, Number("loss", positive: true), Number("accuracy", positive: false)));
        }
        if (header is null) throw new UserError($"{source}: empty file (expected a header with loss, accuracy and optionally task)");
        if (results.Count == 0) throw new UserError($"{source}: no results below the header");
        return results;
    }
}
