using System.Text;

namespace Flame.Data.Readers;

/// <summary>A plain text file (optionally zstd-compressed) is one document; invalid UTF-8 is reported, never replaced silently.</summary>
public static class PlainTextReader
{
    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IEnumerable<TextDocument> Read(string path, CorpusReadOptions options, CorpusReadLog log)
    {
        string? text;
        long raw;
        using (var stream = CorpusFileStream.Open(path, log))
        using (var buffer = new MemoryStream())
        {
            stream.CopyTo(buffer);
            raw = buffer.Length;
            try { text = Strict.GetString(buffer.GetBuffer(), 0, (int)buffer.Length); }
            catch (DecoderFallbackException)
            {
                var message = $"{path}: invalid UTF-8";
                if (!options.SkipBad) throw new UserError(message + " (use --skip-bad to skip such files)");
                log.Skip(message);
                text = null;
            }
        }
        if (text is not null) yield return new TextDocument(text.TrimStart('\uFEFF'), path, 0, raw);
    }
}
