using ZstdSharp;

namespace Flame.Data.Readers;

/// <summary>Opens a corpus file for streaming, decompressing .zst/.zstd on the fly; a truncated or corrupt frame surfaces as a UserError naming the file.</summary>
public static class CorpusFileStream
{
    public static bool IsZstd(string path) =>
        path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".zstd", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file name without a compression suffix, to decide the format by (data.jsonl.zst is jsonl).</summary>
    public static string FormatName(string path) => IsZstd(path) ? path[..path.LastIndexOf('.')] : path;

    public static Stream Open(string path, CorpusReadLog? log = null)
    {
        FileStream file;
        try { file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserError($"{path}: cannot open ({e.Message})"); }
        Stream counted = log is null ? file : new CountingStream(file, log);
        return IsZstd(path) ? new ZstdCheckedStream(path, counted) : counted;
    }
}
