using System.Globalization;

namespace Flame.Scaling;

/// <summary>One data row of a results CSV, with what error messages need to name it.</summary>
public sealed record ResultsCsvRow(string Source, int Line, string[] Header, string[] Fields)
{
    public bool Has(string column) => Array.IndexOf(Header, column) >= 0;
    public string Text(string column) => Fields[Array.IndexOf(Header, column)];

    /// <summary>A finite number; <paramref name="positive"/> demands &gt; 0, otherwise &gt;= 0.</summary>
    public double Number(string column, bool positive = true)
    {
        string text = Text(column);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new UserError($"{Source} line {Line} column '{column}': '{text}' is not a finite number");
        if (positive ? !(v > 0) : v < 0)
            throw new UserError($"{Source} line {Line} column '{column}': {text} must be {(positive ? "positive" : "0 or more")}");
        return v;
    }
}

/// <summary>
/// The results CSVs of the scaling study: plain comma-separated values, no quoting, a header with lower-cased
/// column names, blank lines ignored. A missing column or a row of the wrong width is a <see cref="UserError"/>
/// naming the file and line.
/// </summary>
public static class ResultsCsvReader
{
    /// <param name="needs">how the expected header reads in messages, e.g. "flops, params, loss and optionally tokens".</param>
    public static IEnumerable<ResultsCsvRow> Read(IEnumerable<string> lines, string source, string[] required, string needs)
    {
        string[]? header = null;
        int lineNo = 0, rows = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            var fields = raw.Split(',').Select(f => f.Trim()).ToArray();
            if (header is null)
            {
                header = fields.Select(f => f.ToLowerInvariant()).ToArray();
                foreach (var name in required)
                    if (!header.Contains(name))
                        throw new UserError($"{source} line {lineNo}: missing column '{name}' (header: {raw.Trim()}; needs {needs})");
                continue;
            }
            if (fields.Length != header.Length)
                throw new UserError($"{source} line {lineNo}: {fields.Length} fields, but the header has {header.Length}");
            rows++;
            yield return new ResultsCsvRow(source, lineNo, header, fields);
        }
        if (header is null) throw new UserError($"{source}: empty file (expected a header with {needs})");
        if (rows == 0) throw new UserError($"{source}: no rows below the header");
    }
}
