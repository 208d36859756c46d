using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Tests.Model;

public class RouterAndLossTests
{
    [Fact]
    public void TopKKeepsUnnormalisedSoftmaxProbabilitiesSortedDescending()
    {
        // Router weight = identity on 4 experts, so the logits are the token itself.
        var router = new TopKRouter(4, 4, 2);
        using (no_grad()) router.weight.copy_(eye(4));
        var x = tensor(new float[] { 1, 3, 0, 2 }).view(1, 4);
        var r = router.forward(x);
        double z = Math.Exp(1) + Math.Exp(3) + Math.Exp(0) + Math.Exp(2);
        Assert.Equal(new long[] { 1, 3 }, r.Indices[0].data<long>().ToArray());
        Assert.Equal(Math.Exp(3) / z, r.Gates[0, 0].item<float>(), 1e-6);
        Assert.Equal(Math.Exp(2) / z, r.Gates[0, 1].item<float>(), 1e-6);
        Assert.True(r.Gates.sum().item<float>() < 0.95, "gates must not be renormalised to 1");
        Assert.Equal(ScalarType.Float32, r.Logits.dtype);
    }

    [Fact]
    public void LoadBalancingLossMatchesHandComputation()
    {
        // T = 2 tokens, E = 3 experts, k = 1, coeff 0.01.
        var probs = tensor(new float[] { 0.5f, 0.3f, 0.2f, 0.1f, 0.6f, 0.3f }).view(2, 3);
        var indices = tensor(new long[] { 0, 1 }).view(2, 1);
        // sum_t P = [0.6, 0.9, 0.5]; f = [1, 1, 0]; sum P*f = 1.5; 0.01 * 3 * 1.5 / (4 * 1) = 0.01125
        Assert.Equal(0.01125, RoutingLosses.LoadBalancing(probs, indices, 0.01).item<float>(), 1e-7);
    }

    [Fact]
    public void ZLossMatchesHandComputation()
    {
        var logits = tensor(new float[] { 0, 0, 1, 2 }).view(2, 2);
        double lse0 = Math.Log(2), lse1 = Math.Log(Math.Exp(1) + Math.Exp(2));
        double expected = 0.001 * (lse0 * lse0 + lse1 * lse1) / 2;
        Assert.Equal(expected, RoutingLosses.ZLoss(logits, 0.001).item<float>(), 1e-8);
    }

    [Fact]
    public void ExpertCountsCountEverySlot()
    {
        var indices = tensor(new long[] { 0, 2, 2, 3, 0, 2 }).view(3, 2);
        Assert.Equal(new long[] { 2, 0, 3, 1 }, RoutingLosses.ExpertCounts(indices, 4).data<long>().ToArray());
    }
}
