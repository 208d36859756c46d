using System.Globalization;

namespace Flame.Scaling;

/// <summary>
/// Reads a scaling study's results: a header naming <c>flops, params, loss</c> and optionally <c>tokens</c>
/// (when missing, D = flops / (6 params), spec §3). Other columns are kept. Plain comma-separated values,
/// no quoting. A bad row is a <see cref="UserError"/> naming the file, line and column.
/// </summary>
public static class ScalingResultsCsv
{
    static readonly string[] Required = ["flops", "params", "loss"];

    public static IReadOnlyList<ScalingRun> Read(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: no such file");
        return Parse(File.ReadLines(path), path);
    }

    public static IReadOnlyList<ScalingRun> Parse(IEnumerable<string> lines, string source)
    {
        string[]? header = null;
        var runs = new List<ScalingRun>();
        int lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var fields = raw.Split(',').Select(f => f.Trim()).ToArray();
            if (header is null)
            {
                header = fields.Select(f => f.ToLowerInvariant()).ToArray();
                foreach (var name in Required)
                    if (!header.Contains(name))
                        throw new UserError($"{source} line {lineNo}: missing column '{name}' (header: {raw.Trim()}; needs flops, params, loss and optionally tokens)");
                continue;
            }
            if (fields.Length != header.Length)
                throw new UserError($"{source} line {lineNo}: {fields.Length} fields, but the header has {header.Length}");
            double Number(string column)
            {
                int i = Array.IndexOf(header, column);
                if (!double.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    throw new UserError($"{source} line {lineNo} column '{column}': '{fields[i]}' is not a number");
                if (!(v > 0) || double.IsInfinity(v))
                    throw new UserError($"{source} line {lineNo} column '{column}': {fields[i]} must be positive and finite");
                return v;
            }
            double flops = Number("flops"), n = Number("params"), loss = Number("loss");
            double tokens = header.Contains("tokens") ? Number("tokens") : flops / (6 * n);
            var extra = new Dictionary<string, string>();
            for (int i = 0; i < header.Length; i++)
                if (header[i] is not ("flops" or "params" or "tokens" or "loss")) extra[header[i]] = fields[i];
            runs.Add(new ScalingRun(flops, n, tokens, loss) { Extra = extra });
        }
        if (header is null) throw new UserError($"{source}: empty file (expected a header with flops, params, loss)");
        if (runs.Count == 0) throw new UserError($"{source}: no runs below the header");
        return runs;
    }
}
