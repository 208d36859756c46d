using System.Text.RegularExpressions;

namespace Flame.Evaluation.Tasks;

/// <summary>
/// The harness's HellaSwag text clean-up (tasks/hellaswag/utils.py, preprocess): strip, " [title]" becomes
/// ". ", any other bracketed WikiHow marker is removed, then one pass turning double spaces into single ones.
/// Plus Python's str.capitalize, which the harness applies to ctx_b.
/// </summary>
public static partial class HellaSwagText
{
    [GeneratedRegex(@"\[.*?\]")]
    private static partial Regex Bracketed();

    public static string Preprocess(string text)
    {
        text = text.Trim();
        text = text.Replace(" [title]", ". ", StringComparison.Ordinal);
        text = Bracketed().Replace(text, "");
        return text.Replace("  ", " ", StringComparison.Ordinal);
    }

    /// <summary>Python's str.capitalize: first character upper case, every other character lower case.</summary>
    public static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..].ToLowerInvariant();
}
