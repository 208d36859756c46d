using System.Text;
using ZstdSharp;

namespace Flame.Tests.Data;

/// <summary>Writes small corpus files for tests.</summary>
static class CorpusFiles
{
    public static string Jsonl(TempFolder dir, string name, params string[] lines)
    {
        var path = dir.File(name);
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        File.WriteAllBytes(path, name.EndsWith(".zst") ? Compress(bytes) : bytes);
        return path;
    }

    public static byte[] Compress(byte[] data)
    {
        using var compressor = new Compressor(3);
        return compressor.Wrap(data).ToArray();
    }

    public static string Doc(string text) => System.Text.Json.JsonSerializer.Serialize(new { text });
}
