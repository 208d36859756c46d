using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Runtime;

/// <summary>
/// Where a command computes and in which dtype its matrix products run: the user's device (auto, cpu, cuda)
/// and dtype (bf16, fp32; default bf16 on CUDA, fp32 on CPU) read in one place. A bad value is a one-line
/// <see cref="UserError"/> naming it; asking for cuda without a CUDA libtorch is one too (<see cref="TorchRuntime.Resolve"/>).
/// </summary>
/// <param name="Device">the torch device (loads libtorch first, from FLAME_LIBTORCH when set)</param>
/// <param name="ComputeType">the compute dtype: the one asked for, else <see cref="DefaultComputeType"/> of the device</param>
public sealed record ComputeTarget(Device Device, ScalarType ComputeType)
{
    /// <summary>The device and dtype from their text, e.g. ("auto", null), ("cuda", "fp32").</summary>
    public static ComputeTarget Resolve(string device, string? dtype = null)
    {
        var computeType = ParseDtype(dtype); // a bad dtype fails before libtorch loads
        return On(ResolveDevice(device), computeType);
    }

    /// <summary>An already resolved device with the dtype asked for, or the device's default when none was.</summary>
    public static ComputeTarget On(Device device, ScalarType? computeType = null) => new(device, computeType ?? DefaultComputeType(device));

    /// <summary>The torch device from its text: auto (CUDA when usable, else CPU), cpu, or cuda (gpu).</summary>
    public static Device ResolveDevice(string device) => TorchRuntime.Resolve(DeviceChoiceParser.Parse(device));

    /// <summary>bf16 or fp32 (also bfloat16, float32; any case); null when none was given.</summary>
    public static ScalarType? ParseDtype(string? dtype) => dtype?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "bf16" or "bfloat16" => ScalarType.BFloat16,
        "fp32" or "float32" => ScalarType.Float32,
        _ => throw new UserError($"unknown dtype '{dtype}'; valid choices: bf16, fp32"),
    };

    /// <summary>bf16 on CUDA, fp32 on CPU.</summary>
    public static ScalarType DefaultComputeType(Device device) => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

    public bool IsCuda => Device.type == DeviceType.CUDA;

    /// <summary>The dtype as the options spell it: bf16 or fp32.</summary>
    public string DtypeName => ComputeType == ScalarType.BFloat16 ? "bf16" : "fp32";
}
