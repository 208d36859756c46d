using System.Globalization;

namespace Flame.Experiments;

/// <summary>The kinds of value a config key holds; each is parsed from one string form.</summary>
public enum ConfigValueKind { Integer, Real, Boolean, Text, TextList }

/// <summary>
/// One documented key of an experiment config ("section.name"): how to read it from a config and how to set
/// it from the string form that both the TOML file and `--set section.name=value` reduce to.
/// </summary>
public sealed record ConfigKey(string Name, ConfigValueKind Kind, string Description,
    Func<ExperimentConfig, object> Get, Func<ExperimentConfig, string, ExperimentConfig> Set)
{
    public string Section => Name[..Name.IndexOf('.')];
    public string Leaf => Name[(Name.IndexOf('.') + 1)..];

    public long ParseInteger(string value) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e18 ? (long)d
        : throw new UserError($"{Name} = {value}: expected an integer");

    public int ParseInt32(string value)
    {
        long v = ParseInteger(value);
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new UserError($"{Name} = {value}: out of range");
    }

    public double ParseReal(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
        : throw new UserError($"{Name} = {value}: expected a number");

    public bool ParseBoolean(string value) => value.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new UserError($"{Name} = {value}: expected true or false"),
    };

    public static IReadOnlyList<string> ParseList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
