using System.Text.Json;
using Flame.Distributed;
using Flame.Memory;
using Flame.Model;
using Xunit;

namespace Flame.Tests.Memory;

public class MemoryPlannerTests
{
    // tiny-moe: L = 3 (layer 0 dense), h = 32, 4 heads, F = 48, 8 experts, top-2, F_exp = 16, F_sh = 32, V = 128 (padded).
    static readonly ModelConfig Tiny = Flame.Tests.Model.TinyModels.Moe;

    [Fact]
    public void ATinyModelsStepIsCountedByHandInFp32()
    {
        var plan = MemoryPlanner.Plan(new MemoryRequest(Tiny, MicroBatch: 2, Sequence: 8, Bf16: false, ParallelLayout.Single));
        const long t = 16, h = 32, c = 4, v = 128, k = 2, b = 2, s = 8, heads = 4;
        // Parameters: embedding + output 2 x 128 x 32, final norm 32; per block attention 4h^2 and two norms 2h;
        // dense FFN 3 x 32 x 48; per MoE layer experts 8 x 3 x 32 x 16, shared 3 x 32 x 32, router 8 x 32.
        const long parameters = 2 * 128 * 32 + 32 + 3 * (4 * 32 * 32 + 2 * 32) + 3 * 32 * 48 + 2 * (8 * 3 * 32 * 16 + 3 * 32 * 32 + 8 * 32);
        Assert.Equal(56_544, parameters);
        Assert.Equal(4 * parameters, plan["weights: fp32 masters"]);
        Assert.Equal(0, plan["weights: bf16 copies"]);
        Assert.Equal(4 * parameters, plan["gradients: fp32"]);
        Assert.Equal(8 * parameters, plan["optimizer: AdamW moments"]);
        Assert.Equal(16 * parameters, plan.StateBytes);

        long norm = 4 * t * h + 4 * t + t * h * c;                                 // fp32 normalised, rsqrt [T, 1], output
        Assert.Equal(3 * 2 * t * h * c, plan["residual stream: block inputs"]);    // x and x + attention per block
        Assert.Equal(3 * (3 * t * h + 2 * t * h) * c, plan["attention: q/k/v"]);   // qkv [T, 3h], RoPE'd q, k
        Assert.Equal(3 * (t * h * c + 4 * b * heads * s), plan["attention: core"]); // output + fp32 logsumexp
        Assert.Equal(3 * 2 * t * h * c, plan["attention: projection"]);
        Assert.Equal(3 * 2 * norm, plan["norms"]);
        Assert.Equal((2 * t * 48 + 2 * t * 48) * c, plan["dense FFN: SwiGLU intermediates"]);
        Assert.Equal(2 * (2 * t * 8 * 4 + t * k * 4 + t * k * 8 + t * 4), plan["MoE router"]);
        Assert.Equal(2 * (t * k * h * c + 2 * t * k * 8), plan["MoE dispatch: top-k rows"]);
        Assert.Equal(2 * (2 * t * k * 16 + 2 * t * k * 16) * c, plan["routed experts: SwiGLU intermediates"]);
        Assert.Equal(2 * t * k * h * 4, plan["routed experts: combine"]);
        Assert.Equal(2 * 4 * t * 32 * c, plan["shared expert: SwiGLU intermediates"]);
        Assert.Equal(norm, plan["final norm"]);
        Assert.Equal(t * v * 4, plan["logits"]);
        Assert.Equal(0, plan["logits: fp32 cast"]);
        Assert.Equal(t * v * 4, plan["logits: log-softmax"]);
        long activations = 3 * 2 * t * h * c + 3 * 5 * t * h * c + 3 * (t * h * c + 4 * b * heads * s) + 3 * 2 * t * h * c + 6 * norm
            + 4 * t * 48 * c + t * h * c                                          // dense FFN intermediates and output
            + 2 * (2 * t * 8 * 4 + 12 * t * k + 4 * t) + 2 * (t * k * h * c + 16 * t * k) + 2 * 4 * t * k * 16 * c + 2 * 4 * t * k * h
            + 2 * 4 * t * 32 * c + 2 * t * h * c                                   // shared expert, MoE outputs
            + t * h * c + norm + 2 * t * v * 4;                                    // last block's output, final norm, logits
        Assert.Equal(activations, plan.ActivationBytes);
        // The largest transient: the clip's square of the largest gradient, the experts' gate_up 8 x 32 x 2 x 16 fp32
        // (loss backward is 8 x 16 x 128 = 16,384 bytes).
        Assert.Equal(4 * 8 * 32 * 2 * 16, plan.TransientBytes);
        Assert.Equal(16 * parameters + activations + 4 * 8 * 32 * 2 * 16, plan.TotalBytes);
        Assert.Equal(plan.TotalBytes, plan.Items.Sum(i => i.Bytes));
    }

    [Fact]
    public void Bf16CopiesTheOpWeightsAndTheDistributedOptimizerKeepsItsShard()
    {
        var bf16 = MemoryPlanner.Plan(new MemoryRequest(Tiny, 2, 8, Bf16: true, ParallelLayout.Single));
        // Everything but the embedding [128, 32], 7 norms of 32 and two routers [8, 32] gets a bf16 copy.
        Assert.Equal(2 * (56_544 - 128 * 32 - 7 * 32 - 2 * 8 * 32), bf16["weights: bf16 copies"]);
        Assert.Equal(16 * 128 * 4, bf16["logits: fp32 cast"]);
        Assert.Equal(16 * 128 * 2, bf16["logits"]);

        var sharded = MemoryPlanner.Plan(new MemoryRequest(Tiny, 2, 8, Bf16: false, new ParallelLayout(4, 2, 2), DistributedOptimizer: true));
        const long experts = 2 * 8 * 3 * 32 * 16, local = 56_544 - experts + experts / 2, replicated = local - experts / 2;
        const long shard = replicated / 4 + experts / 2 / 2;                      // over the world; expert slices over data
        Assert.Equal(4 * local, sharded["weights: fp32 masters"]);
        Assert.Equal(8 * shard, sharded["optimizer: AdamW moments (shard)"]);
        Assert.Equal(4 * shard, sharded["optimizer: fp32 parameter shard"]);
        Assert.Equal(4 * shard, sharded["optimizer: gradient shard"]);
        Assert.Equal(0, sharded["optimizer: AdamW moments"]);
    }

    [Fact]
    public void RecomputeAndLossChunksKeepLess()
    {
        var request = new MemoryRequest(ModelPresets.Get("flame-moe-38m"), 4, 2048, Bf16: true, ParallelLayout.Single);
        var none = MemoryPlanner.Plan(request);
        var selective = MemoryPlanner.Plan(request with { Recompute = RecomputeMode.Selective });
        var full = MemoryPlanner.Plan(request with { Recompute = RecomputeMode.Full });
        var chunked = MemoryPlanner.Plan(request with { LossChunk = 1024 });
        Assert.True(none.ActivationBytes > selective.ActivationBytes && selective.ActivationBytes > full.ActivationBytes);
        Assert.Equal(0, selective["attention: core"] + selective["norms"] + selective["routed experts: SwiGLU intermediates"]);
        Assert.Equal(9L * 4 * 2048 * 256 * 2 + 4L * 2048 * 256 * 2, full["residual stream: block inputs"]);
        Assert.Equal(1024L * 50304 * 2, chunked["logits"]);
    }

    [Fact]
    public void AdviceTriesTheChangesInOrderAndNamesTheFirstThatFits()
    {
        var request = new MemoryRequest(ModelPresets.Get("flame-moe-38m"), 32, 2048, Bf16: true, ParallelLayout.Single);
        var plan = MemoryPlanner.Plan(request);
        long device = plan.TotalBytes / 2;
        var advice = MemoryAdvice.For(request, device);
        Assert.StartsWith("micro-batch", advice[0].Change);
        Assert.Equal("training.recompute=selective", advice[1].Setting);
        var fix = MemoryAdvice.Smallest(advice);
        Assert.NotNull(fix);
        Assert.True(fix.TotalBytes <= device);
        Assert.Equal(advice.First(a => a.Fits), fix);

        // State-bound: 4096 experts (4.4 billion parameters, 16 bytes each of state) need expert parallelism, not a smaller batch.
        var huge = request with { Model = ModelOverrides.Apply(ModelPresets.Get("flame-moe-38m"), ["experts=4096"]), MicroBatch = 1 };
        var hugeFix = MemoryAdvice.Smallest(MemoryAdvice.For(huge, 80_000_000_000));
        Assert.NotNull(hugeFix);
        Assert.StartsWith("parallel.expert=", hugeFix.Setting);
    }

    [Fact]
    public void TheCommandsJsonSumsToItsTotalAndSaysWhatWouldFit()
    {
        var (code, output, err) = CliHarness.Run([Flame.Cli.Commands.ModelCommands.Create()], ["model", "memory", "--preset", "flame-moe-38m", "--micro-batch", "32", "--seq", "2048",
            "--device-memory", "10", "--json"]);
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        long total = root.GetProperty("total_bytes").GetInt64();
        Assert.Equal(total, root.GetProperty("items").EnumerateArray().Sum(i => i.GetProperty("bytes").GetInt64()));
        Assert.Equal(total, root.GetProperty("state_bytes").GetInt64() + root.GetProperty("activation_bytes").GetInt64() + root.GetProperty("transient_bytes").GetInt64());
        Assert.False(root.GetProperty("fits").GetBoolean());
        Assert.Equal("bf16", root.GetProperty("dtype").GetString());
        Assert.NotEmpty(root.GetProperty("smallest_fix").GetString()!);
    }

    [Fact]
    public void TrainingIsRefusedOnlyWhenTheStateCannotFitAndWarnedWhenThePredictedPeakCannot()
    {
        var request = new MemoryRequest(Tiny, MicroBatch: 2, Sequence: 8, Bf16: false, ParallelLayout.Single);
        var plan = MemoryPlanner.Plan(request);
        Assert.True(plan.StateBytes < plan.TotalBytes);
        var warnings = new List<string>();
        // Room for everything: silent.
        Flame.Training.MemoryFit.Require(request, new DeviceMemory(plan.TotalBytes, "test device"), warnings.Add);
        Assert.Empty(warnings);
        // Room for the state but not the predicted activations: a warning naming the shortfall, and training goes on.
        Flame.Training.MemoryFit.Require(request, new DeviceMemory(plan.StateBytes, "test device"), warnings.Add);
        var warning = Assert.Single(warnings);
        Assert.StartsWith("warning: the memory planner predicts", warning);
        Assert.Contains("test device", warning);
        // Not even room for weights, gradients and AdamW's moments: refused.
        var error = Assert.Throws<UserError>(() => Flame.Training.MemoryFit.Require(request, new DeviceMemory(plan.StateBytes - 1, "test device"), warnings.Add));
        Assert.Contains("GB short", error.Message);
        Assert.Single(warnings);
    }
}
