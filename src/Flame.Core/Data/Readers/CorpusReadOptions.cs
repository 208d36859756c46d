namespace Flame.Data.Readers;

/// <summary>How to read a corpus: the JSON field or Parquet column that holds the text, and whether a bad record stops the run or is counted and skipped.</summary>
public sealed record CorpusReadOptions(string TextField = "text", bool SkipBad = false);
