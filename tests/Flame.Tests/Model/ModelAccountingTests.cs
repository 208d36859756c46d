using Flame.Model;

namespace Flame.Tests.Model;

public class ModelAccountingTests
{
    // Hand-counted totals: embeddings 2Vh, per layer attention 4h^2 + two norms 2h, final norm h,
    // dense SwiGLU 3hF, MoE layer 64 experts * 3hF_exp + shared 3h(2F_exp) + router 64h. V = 50304.
    // Computed independently of the code (a few lines of Python over the spec's table).
    [Theory]
    [InlineData("flame-moe-38m", 100_670_208L)]
    [InlineData("flame-moe-98m", 350_897_664L)]
    [InlineData("flame-moe-115m", 461_197_824L)]
    [InlineData("flame-moe-290m", 1_300_024_320L)] // the spec's own figure
    [InlineData("flame-moe-419m", 2_182_020_096L)]
    [InlineData("flame-moe-721m", 3_839_473_152L)]
    [InlineData("flame-moe-1.7b", 10_283_722_752L)]
    [InlineData("dclm-411m", 411_354_112L)]
    [InlineData("dclm-1b", 1_439_270_912L)]
    public void TotalParametersMatchHandCount(string preset, long expected) =>
        Assert.Equal(expected, ModelAccounting.Of(ModelPresets.Get(preset)).TotalParams);

    [Fact]
    public void TotalParametersEqualTheBuiltModelsWeights()
    {
        foreach (var name in new[] { "demo" })
        {
            using var model = new FlameModel(ModelPresets.Get(name));
            long counted = model.parameters().Sum(p => p.numel());
            Assert.Equal(ModelAccounting.Of(model.Config).TotalParams, counted);
        }
    }

    [Fact]
    public void FlameNamingCountFollowsTheSpecFormula()
    {
        // N = 2Vh + L*4h^2 + 2hF + (L-1)*8*3*h*F_exp for flame-moe-290m: L=9, h=1024, F=5472, F_exp=704.
        long n = 2L * 50304 * 1024 + 9L * 4 * 1024 * 1024 + 2L * 1024 * 5472 + 8L * 8 * 3 * 1024 * 704;
        Assert.Equal(290_390_016L, n);
        Assert.Equal(n, ModelAccounting.Of(ModelPresets.Get("flame-moe-290m")).FlameParams);
    }

    [Fact]
    public void ActiveParametersCountOnlyTheChosenExperts()
    {
        var a = ModelAccounting.Of(ModelPresets.Get("flame-moe-290m"));
        long unusedPerLayer = (64 - 6) * 3L * 1024 * 704;
        Assert.Equal(a.TotalParams - 8 * unusedPerLayer, a.ActiveParams);
    }

    [Fact]
    public void IterationsForABudgetMatchTheSpecExample()
    {
        // Spec §1: flame-moe-38m at 1e18 FLOPs with 1024 x 2048 tokens per step runs 2121 iterations.
        Assert.Equal(2121, ModelAccounting.IterationsForBudget(ModelPresets.Get("flame-moe-38m"), 1e18, 1024L * 2048));
    }

    [Fact]
    public void FlopsPerTokenIsSixNPlusAttention()
    {
        var c = ModelPresets.Get("flame-moe-38m");
        var a = ModelAccounting.Of(c, 2048);
        Assert.Equal(6.0 * a.FlameParams + 6.0 * 9 * 2048 * 256, a.FlopsPerToken);
    }
}
