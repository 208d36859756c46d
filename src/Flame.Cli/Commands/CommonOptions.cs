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

    public static Option<string[]> ModelSet() => new("--set")
    {
        Description = "override a model number, key=value (repeatable), e.g. --set experts=8 --set top_k=2",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The preset named by --preset with the --set overrides applied, validated.</summary>
    public static Flame.Model.ModelConfig ResolveModel(System.CommandLine.ParseResult parse, Option<string> preset, Option<string[]> set) =>
        Flame.Model.ModelOverrides.Apply(Flame.Model.ModelPresets.Get(parse.GetValue(preset)!), parse.GetValue(set) ?? []).Validate();

    public static Option<bool> Json() => new("--json") { Description = "print JSON instead of a table" };

    public static Option<string> Device() => new("--device")
    {
        Description = "auto, cpu or cuda (cuda needs FLAME_LIBTORCH to name a CUDA libtorch folder)",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<string> Dtype() => new("--dtype")
    {
        Description = "compute dtype: bf16 or fp32 (default: bf16 on CUDA, fp32 on CPU)",
    };

    public static TorchSharp.torch.ScalarType? ParseDtype(string? text) => text?.ToLowerInvariant() switch
    {
        null => null,
        "bf16" or "bfloat16" => TorchSharp.torch.ScalarType.BFloat16,
        "fp32" or "float32" => TorchSharp.torch.ScalarType.Float32,
        _ => throw new UserError($"unknown dtype '{text}'; valid choices: bf16, fp32"),
    };
}
