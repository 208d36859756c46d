using Flame.Cli.Commands;
using Flame.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tests.Runtime;

/// <summary>`ComputeTarget`: --device and --dtype read in one place, a bad value a one-line error naming it.</summary>
public class ComputeTargetTests
{
    [Theory]
    [InlineData("tpu")]
    [InlineData("")]
    [InlineData("cuda:0")]
    public void AnUnknownDeviceIsAUserErrorNamingItAndTheChoices(string device)
    {
        var e = Assert.Throws<UserError>(() => ComputeTarget.Resolve(device));
        Assert.Equal($"unknown device '{device}'; valid choices: auto, cpu, cuda", e.Message);
    }

    [Theory]
    [InlineData("fp16")]
    [InlineData("half")]
    [InlineData("")]
    public void AnUnknownDtypeIsAUserErrorNamingItAndTheChoices(string dtype)
    {
        var e = Assert.Throws<UserError>(() => ComputeTarget.Resolve("cpu", dtype));
        Assert.Equal($"unknown dtype '{dtype}'; valid choices: bf16, fp32", e.Message);
        Assert.Throws<UserError>(() => ComputeTarget.ParseDtype(dtype));
    }

    [Fact]
    public void ABadDtypeIsReportedEvenWhenTheDeviceIsBadToo()
    {
        // The dtype is checked first, before libtorch loads for the device.
        var e = Assert.Throws<UserError>(() => ComputeTarget.Resolve("tpu", "fp16"));
        Assert.Contains("'fp16'", e.Message);
    }

    [Theory]
    [InlineData("bf16", ScalarType.BFloat16)]
    [InlineData("BFloat16", ScalarType.BFloat16)]
    [InlineData(" fp32 ", ScalarType.Float32)]
    [InlineData("FLOAT32", ScalarType.Float32)]
    public void DtypesAreReadInAnyCase(string text, ScalarType expected)
    {
        Assert.Equal(expected, ComputeTarget.ParseDtype(text));
        var target = ComputeTarget.Resolve("cpu", text);
        Assert.Equal(DeviceType.CPU, target.Device.type);
        Assert.Equal(expected, target.ComputeType);
    }

    [Fact]
    public void WithoutADtypeTheDefaultFollowsTheDevice()
    {
        Assert.Null(ComputeTarget.ParseDtype(null));
        var cpu = ComputeTarget.Resolve("CPU");
        Assert.Equal(DeviceType.CPU, cpu.Device.type);
        Assert.Equal(ScalarType.Float32, cpu.ComputeType);
        Assert.Equal("fp32", cpu.DtypeName);
        Assert.False(cpu.IsCuda);
        Assert.Equal(ScalarType.Float32, ComputeTarget.DefaultComputeType(torch.CPU));
        Assert.Equal(ScalarType.BFloat16, ComputeTarget.On(torch.CPU, ScalarType.BFloat16).ComputeType);
        // auto is CUDA exactly when a CUDA libtorch loaded, and then computes in bf16.
        var auto = ComputeTarget.Resolve("auto");
        Assert.Equal(TorchRuntime.Initialize(), auto.IsCuda);
        Assert.Equal(auto.IsCuda ? ScalarType.BFloat16 : ScalarType.Float32, auto.ComputeType);
    }

    [Fact]
    public void OnCudaTheDefaultIsBf16AndAnExplicitFp32IsKept()
    {
        if (!TorchRuntime.Initialize()) return; // needs a CUDA libtorch (FLAME_LIBTORCH); torch.CUDA cannot be made without one
        var cuda = ComputeTarget.Resolve("cuda");
        Assert.True(cuda.IsCuda);
        Assert.Equal(ScalarType.BFloat16, cuda.ComputeType);
        Assert.Equal("bf16", cuda.DtypeName);
        Assert.Equal(ScalarType.BFloat16, ComputeTarget.DefaultComputeType(torch.CUDA));
        Assert.Equal(ScalarType.Float32, ComputeTarget.Resolve("gpu", "fp32").ComputeType);
    }

    [Fact]
    public void CudaWithoutACudaLibtorchIsAUserErrorSayingHowToGetOne()
    {
        if (TorchRuntime.Initialize()) return; // this machine has one
        var e = Assert.Throws<UserError>(() => ComputeTarget.Resolve("cuda"));
        Assert.Contains(TorchRuntime.LibTorchVariable, e.Message);
        Assert.Single(e.Message.Split('\n'));
    }

    [Theory]
    [InlineData("--dtype", "fp16", "unknown dtype 'fp16'")]
    [InlineData("--device", "tpu", "unknown device 'tpu'")]
    public void ACommandGivenABadValueExitsWithTwoAndOneLine(string option, string value, string expected)
    {
        var (code, stdout, stderr) = CliHarness.Run([ModelCommands.Create()], ["model", "check-dispatch", "--preset", "demo", option, value]);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"error: {expected}", stderr.Trim()[..(expected.Length + 7)]);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
