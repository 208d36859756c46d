namespace Flame.Data.Readers;

/// <summary>Streams the documents of many corpus files in order, choosing the reader by file name (compression suffix ignored).</summary>
public static class CorpusReader
{
    public static IEnumerable<TextDocument> Read(IReadOnlyList<string> files, CorpusReadOptions options, CorpusReadLog log)
    {
        foreach (var file in files)
            foreach (var doc in ReadFile(file, options, log))
                yield return doc;
    }

    public static IEnumerable<TextDocument> ReadFile(string file, CorpusReadOptions options, CorpusReadLog log)
    {
        if (new[] { ".gz", ".bz2", ".xz", ".lz4" }.Any(ext => file.EndsWith(ext, StringComparison.OrdinalIgnoreCase)))
            throw new UserError($"{file}: only zstd compression (.zst, .zstd) is supported; decompress it or recompress with zstd");
        var name = CorpusFileStream.FormatName(file);
        if (name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return JsonlReader.Read(file, options, log);
        if (name.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            return ParquetTextReader.Read(file, options, log);
        return PlainTextReader.Read(file, options, log);
    }
}
