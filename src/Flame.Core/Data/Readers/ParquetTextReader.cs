using Parquet;
using Parquet.Schema;

namespace Flame.Data.Readers;

/// <summary>Streams the text column of a Parquet file (Hugging Face datasets) one row group at a time; null cells are bad records.</summary>
public static class ParquetTextReader
{
    public static IEnumerable<TextDocument> Read(string path, CorpusReadOptions options, CorpusReadLog log)
    {
        using var stream = CorpusFileStream.Open(path, log);
        ParquetReader reader;
        try { reader = ParquetReader.CreateAsync(stream).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is not UserError) { throw new UserError($"{path}: not a readable Parquet file ({e.Message})"); }
        try
        {
            var field = reader.Schema.GetDataFields().FirstOrDefault(f => f.Name == options.TextField)
                ?? throw new UserError($"{path}: no column \"{options.TextField}\" (columns: {string.Join(", ", reader.Schema.GetDataFields().Select(f => f.Name))})");
            long row = 0;
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                string?[] data;
                using (var group = reader.OpenRowGroupReader(g))
                {
                    data = new string?[checked((int)group.RowCount)];
                    try { group.ReadAsync(field, data.AsMemory()!, null).AsTask().GetAwaiter().GetResult(); }
                    catch (Exception e) when (e is not UserError) { throw new UserError($"{path}: column \"{options.TextField}\" of row group {g} cannot be read as text ({e.Message})"); }
                }
                foreach (var cell in data)
                {
                    row++;
                    if (cell is string text) { yield return new TextDocument(text, path, row, System.Text.Encoding.UTF8.GetByteCount(text)); continue; }
                    var message = $"{path}: row {row} has no text (null \"{options.TextField}\")";
                    if (!options.SkipBad) throw new UserError(message + " (use --skip-bad to skip such rows)");
                    log.Skip(message);
                }
            }
        }
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }
}
