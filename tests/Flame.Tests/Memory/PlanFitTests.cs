using Flame.Distributed;
using Flame.Memory;
using Flame.Model;
using Xunit;

namespace Flame.Tests.Memory;

/// <summary>The planner's CPU overhead and clipping entries, and the advice's one-GPU configurations.</summary>
public class PlanFitTests
{
    static readonly ModelConfig Tiny = Flame.Tests.Model.TinyModels.Moe;

    [Fact]
    public void TheCpuProcessOverheadIsAddedOnTheCpuOnly()
    {
        var request = new MemoryRequest(Tiny, 2, 8, Bf16: false, ParallelLayout.Single);
        var gpu = MemoryPlanner.Plan(request);
        var cpu = MemoryPlanner.Plan(request with { Cpu = true });
        Assert.Equal(0, gpu["CPU process overhead (measured)"]);
        Assert.Equal(0, gpu["CPU heap: the largest transient placed again"]);
        Assert.Equal(61_000_000, cpu["CPU process overhead (measured)"]);
        // The tiny model's largest transient is the clip's square of the experts' gate_up, 8 x 32 x 2 x 16 fp32, placed
        // twice on the CPU's kept heap.
        Assert.Equal(4 * 8 * 32 * 2 * 16, cpu["largest transient"]);
        Assert.Equal(4 * 8 * 32 * 2 * 16, cpu["CPU heap: the largest transient placed again"]);
        Assert.Equal(gpu.TotalBytes + 61_000_000 + 4 * 8 * 32 * 2 * 16, cpu.TotalBytes);
        Assert.Equal(cpu.TotalBytes, cpu.Items.Sum(i => i.Bytes));
    }

    [Fact]
    public void ClippingHoldsOnlyTheLargestGradientsSquare()
    {
        // flame-moe-38m: the embedding [50304, h] against a layer's experts' gate_up [E, h, 2 F_exp]; one micro-batch of
        // 1 x 16 keeps every other transient small, so the clip's square is the largest.
        var m = ModelPresets.Get("flame-moe-38m");
        var request = new MemoryRequest(m, 1, 16, Bf16: false, ParallelLayout.Single);
        long largest = Math.Max((long)m.PaddedVocab * m.Hidden, (long)m.Experts * m.Hidden * 2 * m.ExpertFfn);
        Assert.Equal(largest, MemoryPlanner.LargestParameter(request));
        var plan = MemoryPlanner.Plan(request);
        Assert.Equal(4 * largest, plan["largest transient"]);
        // Expert parallelism slices the experts' tensors: the largest can only shrink.
        Assert.True(MemoryPlanner.LargestParameter(request with { Layout = new ParallelLayout(2, 1, 2) }) <= largest);
    }

    [Fact]
    public void Flame721mOn80GbGetsAOneGpuConfigurationThatFitsWhenApplied()
    {
        var request = new MemoryRequest(ModelPresets.Get("flame-moe-721m"), 8, 2048, Bf16: true, ParallelLayout.Single);
        Assert.True(MemoryPlanner.Plan(request).TotalBytes > DeviceMemory.H100.Bytes);
        var fix = MemoryAdvice.Smallest(MemoryAdvice.For(request, DeviceMemory.H100.Bytes));
        Assert.NotNull(fix);
        Assert.Equal(1, fix.Gpus);
        Assert.DoesNotContain("parallel.expert", fix.Setting);
        Assert.True(MemoryPlanner.Plan(Apply(request, fix.Setting)).TotalBytes <= DeviceMemory.H100.Bytes);
    }

    [Fact]
    public void TogetherOnOneGpuComesBeforeMoreGpus()
    {
        // A device where no single change fits but full recompute and loss chunks at a smaller micro-batch do.
        var request = new MemoryRequest(ModelPresets.Get("flame-moe-721m"), 8, 2048, Bf16: true, ParallelLayout.Single);
        var together = request with { MicroBatch = 1, Recompute = RecomputeMode.Full, LossChunk = MemoryAdvice.AdvisedLossChunk };
        long device = MemoryPlanner.Plan(together).TotalBytes;
        var advice = MemoryAdvice.For(request, device);
        var fix = MemoryAdvice.Smallest(advice);
        Assert.NotNull(fix);
        Assert.Equal(1, fix.Gpus);
        Assert.StartsWith("one GPU:", fix.Change);
        Assert.True(MemoryPlanner.Plan(Apply(request, fix.Setting)).TotalBytes <= device);
        var list = advice.ToList();
        Assert.True(list.IndexOf(fix) < list.FindIndex(a => a.Gpus > 1) || list.All(a => a.Gpus == 1));
    }

    [Fact]
    public void Flame17bCannotFitOneGpuAndIsToldHowManyGpusItNeeds()
    {
        var request = new MemoryRequest(ModelPresets.Get("flame-moe-1.7b"), 4, 2048, Bf16: true, ParallelLayout.Single);
        var advice = MemoryAdvice.For(request, DeviceMemory.H100.Bytes);
        Assert.All(advice.Where(a => a.Gpus == 1), a => Assert.False(a.Fits));
        var fix = MemoryAdvice.Smallest(advice);
        Assert.NotNull(fix);
        Assert.True(fix.Gpus > 1);
        Assert.Contains($"needs {fix.Gpus} GPUs", fix.SettingAndGpus);
    }

    /// <summary>The advice's settings (space-separated key=value) applied to the request.</summary>
    static MemoryRequest Apply(MemoryRequest r, string settings)
    {
        foreach (var kv in settings.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (kv[..kv.IndexOf('=')], kv[(kv.IndexOf('=') + 1)..]);
            r = key switch
            {
                "training.micro_batch" => r with { MicroBatch = int.Parse(value) },
                "training.recompute" => r with { Recompute = RecomputeModes.Parse(value) },
                "training.loss_chunk" => r with { LossChunk = int.Parse(value) },
                "parallel.expert" => r with { Layout = new ParallelLayout(r.Layout.Data * int.Parse(value), r.Layout.Data, int.Parse(value)) },
                _ => throw new ArgumentException(kv),
            };
        }
        return r;
    }
}
