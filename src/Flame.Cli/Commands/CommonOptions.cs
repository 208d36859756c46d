using System.CommandLine;
using Flame.Runtime;

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
        Description = "override a model number, model.key=value or key=value (repeatable), e.g. --set model.experts=8 --set top_k=2",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>
    /// The preset named by --preset with the --set overrides applied, validated. An override may use the config
    /// key's name (`model.experts=8`, as `flame train --set` takes it) or the bare one (`experts=8`).
    /// </summary>
    public static Flame.Model.ModelConfig ResolveModel(ParseResult parse, Option<string> preset, Option<string[]> set) =>
        Flame.Model.ModelOverrides.Apply(Flame.Model.ModelPresets.Get(parse.GetValue(preset)!),
            (parse.GetValue(set) ?? []).Select(Flame.Experiments.ExperimentKeys.ModelOverride)).Validate();

    /// <summary>--json: the command prints its result as indented JSON instead of a table (<see cref="JsonOrTable"/>).</summary>
    public static Option<bool> Json() => new("--json") { Description = "print JSON instead of a table" };

    /// <summary>--overwrite: <paramref name="description"/> says what this command replaces or removes, and what it keeps.</summary>
    public static Option<bool> Overwrite(string description) => new("--overwrite") { Description = description };

    public static Option<string> Device() => new("--device")
    {
        Description = "auto, cpu or cuda (cuda needs FLAME_LIBTORCH to name a CUDA libtorch folder)",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>--dtype; <paramref name="defaultText"/> says what a command computes in without it.</summary>
    public static Option<string> Dtype(string defaultText = "bf16 on CUDA, fp32 on CPU") => new("--dtype")
    {
        Description = $"compute dtype: bf16 or fp32 (default: {defaultText})",
    };

    /// <summary>The device and compute dtype of --device and --dtype (<see cref="ComputeTarget.Resolve"/>).</summary>
    public static ComputeTarget Target(ParseResult parse, Option<string> device, Option<string> dtype) =>
        ComputeTarget.Resolve(parse.GetValue(device)!, parse.GetValue(dtype));
}
