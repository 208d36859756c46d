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

    public static IReadOnlyList<ScalingRun> Parse(IEnumerable<string> lines, string source) =>
        ResultsCsvReader.Read(lines, source, Required, "flops, params, loss and optionally tokens").Select(row =>
        {
            double flops = row.Number("flops"), n = row.Number("params"), loss = row.Number("loss");
            double tokens = row.Has("tokens") ? row.Number("tokens") : flops / (6 * n);
            var extra = new Dictionary<string, string>();
            for (int i = 0; i < row.Header.Length; i++)
                if (row.Header[i] is not ("flops" or "params" or "tokens" or "loss")) extra[row.Header[i]] = row.Fields[i];
            return new ScalingRun(flops, n, tokens, loss) { Extra = extra };
        }).ToList();
}
