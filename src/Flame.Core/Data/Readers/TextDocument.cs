namespace Flame.Data.Readers;

/// <summary>One document of a corpus: its text, where it came from (file and 1-based line, 0 when not line-based) and its size in raw bytes.</summary>
public sealed record TextDocument(string Text, string Source, long Line, long RawBytes);
