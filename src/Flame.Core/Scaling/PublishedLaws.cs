namespace Flame.Scaling;

/// <summary>Fitted laws that can be named on the command line instead of fitting a results CSV.</summary>
public static class PublishedLaws
{
    /// <summary>FLAME-MoE's Approach-3 fit (spec §3), as its release scripts state it.</summary>
    public const string FlameMoe2025 = "flame-moe-2025";

    static readonly Dictionary<string, ParametricLaw> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        [FlameMoe2025] = ParametricLaw.FlameMoe,
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static ParametricLaw Get(string name) =>
        ByName.TryGetValue(name, out var law) ? law
            : throw new UserError($"unknown law '{name}'; valid laws: {string.Join(", ", Names)}");
}
