using System.CommandLine;
using System.Text.Json;

namespace Flame.Cli.Commands;

/// <summary>
/// What a command with --json prints: its result as indented snake_case JSON on stdout (nothing else goes there),
/// or, without --json, its table or lines.
/// </summary>
public static class JsonOrTable
{
    /// <summary>Prints <paramref name="json"/> serialized, or runs <paramref name="table"/>; returns exit code 0.</summary>
    public static int Print<T>(ParseResult parse, Option<bool> option, T json, Action table)
    {
        if (parse.GetValue(option)) WriteJson(json);
        else table();
        return 0;
    }

    /// <summary>Prints a JSON document that is already text (a summary file a command wrote), or runs <paramref name="table"/>.</summary>
    public static int PrintText(ParseResult parse, Option<bool> option, Func<string> jsonText, Action table)
    {
        if (parse.GetValue(option)) Console.WriteLine(jsonText());
        else table();
        return 0;
    }

    /// <summary>The one JSON form of a result: indented, snake_case names (<see cref="JsonOptions.Indented"/>).</summary>
    public static void WriteJson<T>(T value) => Console.WriteLine(JsonSerializer.Serialize(value, JsonOptions.Indented));
}
