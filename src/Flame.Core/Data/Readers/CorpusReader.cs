namespace Flame.Data.Readers;

/// <summary>Streams the documents of many corpus files in order, choosing the reader by file name (compression suffix ignored) or by --format.</summary>
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
        // Guessing is how piped JSONL once became one document of JSON syntax: an unnamed kind is refused.
        var format = options.Format ?? CorpusFormats.FromName(file)
            ?? throw new UserError($"{file}: cannot tell what kind of file this is from its name; name it .jsonl, .parquet or .txt, or give --format jsonl|text|parquet");
        return format switch
        {
            CorpusFormat.Jsonl => JsonlReader.Read(file, options, log),
            CorpusFormat.Parquet => ParquetTextReader.Read(file, options, log),
            _ => PlainTextReader.Read(file, options, log),
        };
    }
}
