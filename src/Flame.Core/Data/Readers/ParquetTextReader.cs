using ParquetSharp;

namespace Flame.Data.Readers;

/// <summary>Streams the text column of a Parquet file (Hugging Face datasets) one row group at a time; null cells are bad records.</summary>
public static class ParquetTextReader
{
    public static IEnumerable<TextDocument> Read(string path, CorpusReadOptions options, CorpusReadLog log)
    {
        var stream = CorpusFileStream.Open(path, log);
        ParquetFileReader reader;
        try { reader = new ParquetFileReader(stream, leaveOpen: false); }
        catch (Exception e) when (e is not UserError)
        {
            stream.Dispose();
            throw new UserError($"{path}: not a readable Parquet file ({FirstLine(e.Message)})");
        }
        using (reader)
        {
            var schema = reader.FileMetaData.Schema;
            int column = -1;
            for (int c = 0; c < schema.NumColumns && column < 0; c++)
                if (schema.Column(c) is { MaxRepetitionLevel: 0 } d && d.Path.ToDotVector() is [var name] && name == options.TextField) column = c;
            if (column < 0)
            {
                var names = reader.FileMetaData.Schema.GroupNode.Fields.Select(f => f.Name);
                throw new UserError($"{path}: no column \"{options.TextField}\" (columns: {string.Join(", ", names)})");
            }
            long row = 0;
            for (int g = 0; g < reader.FileMetaData.NumRowGroups; g++)
            {
                string?[] data;
                try
                {
                    using var group = reader.RowGroup(g);
                    using var cells = group.Column(column).LogicalReader<string?>();
                    data = cells.ReadAll(checked((int)group.MetaData.NumRows));
                }
                catch (Exception e) when (e is not UserError)
                {
                    throw new UserError($"{path}: column \"{options.TextField}\" of row group {g} cannot be read as text ({FirstLine(e.Message)})");
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
    }

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
