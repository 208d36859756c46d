using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flame.Output;

/// <summary>
/// `.flame-output.json`: written when a command creates or claims a folder, so a later command can prove the
/// folder is Flame's own (and of which kind) before writing into it or removing anything from it.
/// </summary>
public sealed record OutputMarker(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("command")] string Command,
    [property: JsonPropertyName("created")] DateTimeOffset Created)
{
    public const string FileName = ".flame-output.json";

    /// <summary>The folder's marker, or null when there is none or it cannot be read (then the folder is not provably ours).</summary>
    public static OutputMarker? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        try { return File.Exists(path) ? JsonSerializer.Deserialize<OutputMarker>(File.ReadAllText(path)) : null; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    public void Write(string folder) =>
        OutputFiles.WriteText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
}
