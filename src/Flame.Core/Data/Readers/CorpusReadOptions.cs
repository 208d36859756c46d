namespace Flame.Data.Readers;

/// <summary>
/// How to read a corpus: the JSON field or Parquet column that holds the text, whether a bad record stops the
/// run or is counted and skipped, and the format when the file name does not say it (--format; null = by extension).
/// </summary>
public sealed record CorpusReadOptions(string TextField = "text", bool SkipBad = false, CorpusFormat? Format = null);
