using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Runtime;

/// <summary>The device peak that MFU divides by: the user's, else an H100's dense bf16 peak on CUDA, else none.</summary>
public static class PeakTflops
{
    /// <summary>H100 SXM dense bf16 TFLOP/s (NVIDIA's datasheet; FLAME-MoE trained on H100s).</summary>
    public const double H100Bf16Dense = 989.0;

    /// <param name="given">the user's peak; null or 0 means unset.</param>
    public static double? For(Device device, double? given) =>
        given > 0 ? given : device.type == DeviceType.CUDA ? H100Bf16Dense : null;
}
