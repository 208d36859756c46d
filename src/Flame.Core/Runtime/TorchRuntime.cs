using System.Runtime.InteropServices;
using TorchSharp;

namespace Flame.Runtime;

/// <summary>
/// Chooses the libtorch the process runs on and the device it computes on.
/// With FLAME_LIBTORCH naming a folder (a PyTorch install's torch/lib), that libtorch is loaded
/// before TorchSharp touches its own, which makes CUDA available on a machine that has PyTorch
/// but no .NET libtorch package (platform notes, "GPU").
/// </summary>
public static class TorchRuntime
{
    public const string LibTorchVariable = "FLAME_LIBTORCH";

    // Order matters: each library's dependencies must already be loaded.
    static readonly string[] LibTorchLibraries =
        ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    static readonly object Gate = new();
    static bool _loaded;
    static bool _cudaLoaded;

    /// <summary>Loads libtorch once per process (from FLAME_LIBTORCH if set) and returns whether CUDA is usable.</summary>
    public static bool Initialize()
    {
        lock (Gate)
        {
            if (_loaded) return _cudaLoaded;
            HostMemory.KeepFreedMemory();
            var folder = Environment.GetEnvironmentVariable(LibTorchVariable);
            if (!string.IsNullOrWhiteSpace(folder)) _cudaLoaded = LoadExternalLibTorch(folder);
            _loaded = true;
            return _cudaLoaded;
        }
    }

    /// <summary>Resolves --device to a torch device, with a clear error when CUDA is asked for but absent.</summary>
    public static torch.Device Resolve(DeviceChoice choice)
    {
        bool cuda = Initialize();
        switch (choice)
        {
            case DeviceChoice.Cpu:
                return torch.CPU;
            case DeviceChoice.Cuda:
                if (!cuda)
                    throw new UserError(
                        $"device cuda needs a CUDA libtorch: set {LibTorchVariable} to a folder holding one " +
                        "(for example the output of: python3 -c \"import torch,os;print(os.path.dirname(torch.__file__)+'/lib')\")");
                return torch.CUDA;
            default:
                return cuda ? torch.CUDA : torch.CPU;
        }
    }

    static bool LoadExternalLibTorch(string folder)
    {
        if (!Directory.Exists(folder))
            throw new UserError($"{LibTorchVariable}={folder}: no such folder; it must name a libtorch folder such as a PyTorch install's torch/lib");
        foreach (var name in LibTorchLibraries)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path))
                throw new UserError($"{LibTorchVariable}={folder}: {name} is missing; the folder must hold a CUDA build of libtorch " +
                                    $"({string.Join(", ", LibTorchLibraries)})");
            try { NativeLibrary.Load(path); }
            catch (Exception e) { throw new UserError($"{LibTorchVariable}: could not load {path}: {e.Message}"); }
        }
        // Our own LibTorchSharp binding, shipped beside the program, goes on top of the external libtorch.
        var binding = FindLibTorchSharp();
        if (binding != null) NativeLibrary.Load(binding);
        try { torch.InitializeDeviceType(DeviceType.CUDA); }
        catch (Exception e) { throw new UserError($"{LibTorchVariable}={folder}: libtorch loaded but CUDA did not start: {e.Message}"); }
        if (!torch.cuda.is_available())
            throw new UserError($"{LibTorchVariable}={folder}: libtorch loaded but reports no CUDA device");
        return true;
    }

    static string? FindLibTorchSharp()
    {
        var baseDir = AppContext.BaseDirectory;
        foreach (var candidate in new[]
                 {
                     Path.Combine(baseDir, "libLibTorchSharp.so"),
                     Path.Combine(baseDir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
                 })
            if (File.Exists(candidate)) return candidate;
        return null;
    }
}
