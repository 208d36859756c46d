using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Flame.Data.Readers;

/// <summary>
/// Streams documents from a JSON-lines file (optionally zstd-compressed), one object per line, the text
/// in a configurable field. Blank lines are ignored. A bad line (invalid UTF-8, malformed JSON, missing
/// or non-string field) stops the read with file and line, or is counted and skipped under SkipBad.
/// </summary>
public static class JsonlReader
{
    public static IEnumerable<TextDocument> Read(string path, CorpusReadOptions options, CorpusReadLog log)
    {
        using var stream = CorpusFileStream.Open(path, log);
        var lines = new Utf8LineReader(stream);
        var field = Encoding.UTF8.GetBytes(options.TextField);
        long lineNumber = 0, before = 0;
        while (lines.TryReadLine(out var line))
        {
            lineNumber++;
            long raw = lines.BytesRead - before;
            before = lines.BytesRead;
            if (lineNumber == 1 && line.Span.StartsWith("\uFEFF"u8)) line = line[3..]; // a UTF-8 byte-order mark (Windows editors write one)
            if (IsBlank(line.Span)) continue;
            string? text = null, problem = ParseLine(line.Span, field, options.TextField, ref text);
            if (problem is not null)
            {
                var message = $"{path}:{lineNumber}: {problem}";
                if (!options.SkipBad) throw new UserError(message + " (use --skip-bad to skip such lines)");
                log.Skip(message);
                continue;
            }
            yield return new TextDocument(text!, path, lineNumber, raw);
        }
    }

    static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t"u8).IsEmpty;

    /// <summary>Returns null and sets text when the line is good, else a description of what is wrong.</summary>
    static string? ParseLine(ReadOnlySpan<byte> line, byte[] field, string fieldName, ref string? text)
    {
        if (!Utf8.IsValid(line)) return "invalid UTF-8";
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { AllowTrailingCommas = false });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return "malformed JSON (expected an object)";
            string? found = null;
            bool seen = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool match = reader.ValueTextEquals(field);
                reader.Read();
                if (match && !seen)
                {
                    seen = true;
                    if (reader.TokenType != JsonTokenType.String) return $"field \"{fieldName}\" is {reader.TokenType}, not a string";
                    found = reader.GetString();
                }
                else reader.Skip();
            }
            if (reader.TokenType != JsonTokenType.EndObject) return "malformed JSON";
            // A second value after the object makes the reader throw (reported as malformed below).
            reader.Read();
            if (!seen) return $"no \"{fieldName}\" field";
            text = found;
            return null;
        }
        catch (JsonException e) { return $"malformed JSON ({e.Message.Split(" LineNumber")[0]})"; }
        catch (InvalidOperationException e) { return $"unreadable string in field \"{fieldName}\" ({e.Message})"; }
    }
}
