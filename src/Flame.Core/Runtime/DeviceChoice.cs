namespace Flame.Runtime;

/// <summary>What the user asked for with --device.</summary>
public enum DeviceChoice { Auto, Cpu, Cuda }

public static class DeviceChoiceParser
{
    public static DeviceChoice Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceChoice.Auto,
        "cpu" => DeviceChoice.Cpu,
        "cuda" or "gpu" => DeviceChoice.Cuda,
        _ => throw new UserError($"unknown device '{text}'; valid choices: auto, cpu, cuda"),
    };
}
