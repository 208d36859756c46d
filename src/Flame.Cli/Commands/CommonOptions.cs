using System.CommandLine;

namespace Flame.Cli.Commands;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string> Preset(bool required = true) => new("--preset")
    {
        Description = "model preset: " + string.Join(", ", Flame.Model.ModelPresets.Names),
        Required = required,
    };

    public static Option<bool> Json() => new("--json") { Description = "print JSON instead of a table" };

    public static Option<string> Device() => new("--device")
    {
        Description = "auto, cpu or cuda (cuda needs FLAME_LIBTORCH to name a CUDA libtorch folder)",
        DefaultValueFactory = _ => "auto",
    };
}
