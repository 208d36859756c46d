using System.Globalization;
using System.Text;

namespace Flame.Analysis;

/// <summary>A CSV file written in one go (invariant culture, RFC 4180 quoting), temp file then rename.</summary>
public sealed class CsvTable(params string[] header)
{
    readonly StringBuilder _text = new StringBuilder().AppendLine(string.Join(',', header.Select(Quote)));

    public void Add(params object?[] cells) =>
        _text.AppendLine(string.Join(',', cells.Select(c => Quote(c switch
        {
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => c?.ToString() ?? "",
        }))));

    /// <summary>The file's text, for a caller that writes it its own way (Output.OutputFiles).</summary>
    public string Text => _text.ToString();

    public void Save(string path)
    {
        Output.OutputFiles.Write(path, temp => File.WriteAllText(temp, _text.ToString(), new UTF8Encoding(false)));
    }

    static string Quote(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}

/// <summary>Reads back a CSV written by <see cref="CsvTable"/> (header row, RFC 4180 quoting).</summary>
public static class CsvRows
{
    public static List<Dictionary<string, string>> Read(string path)
    {
        var rows = new List<Dictionary<string, string>>();
        if (!File.Exists(path)) return rows;
        var records = Parse(File.ReadAllText(path));
        if (records.Count == 0) return rows;
        var header = records[0];
        foreach (var record in records.Skip(1))
        {
            var row = new Dictionary<string, string>();
            for (int i = 0; i < header.Count && i < record.Count; i++) row[header[i]] = record[i];
            rows.Add(row);
        }
        return rows;
    }

    static List<List<string>> Parse(string text)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var cell = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { cell.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else cell.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { record.Add(cell.ToString()); cell.Clear(); }
            else if (c == '\n')
            {
                record.Add(cell.ToString()); cell.Clear();
                records.Add(record); record = [];
            }
            else if (c != '\r') cell.Append(c);
        }
        if (cell.Length > 0 || record.Count > 0) { record.Add(cell.ToString()); records.Add(record); }
        return records;
    }
}
