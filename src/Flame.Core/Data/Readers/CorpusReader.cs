namespace Flame.Data.Readers;

/// <summary>Streams the documents of many corpus files in order, choosing the reader by file name (compression suffix ignored).</summary>
public static class CorpusReader
{
    public static IEnumerable<TextDocument> Read(IReadOnlyList<string> files, CorpusReadOptions options, BadRecordCounter bad)
    {
        foreach (var file in files)
            foreach (var doc in ReadFile(file, options, bad))
                yield return doc;
    }

    public static IEnumerable<TextDocument> ReadFile(string file, CorpusReadOptions options, BadRecordCounter bad)
    {
        var name = CorpusFileStream.FormatName(file);
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return JsonlReader.Read(file, options, bad);
        if (name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            return ParquetTextReader.Read(file, options, bad);
        return PlainTextReader.Read(file, options, bad);
    }
}
