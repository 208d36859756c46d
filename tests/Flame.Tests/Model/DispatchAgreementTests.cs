using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Tests.Model;

public class DispatchAgreementTests
{
    static (Tensor Output, Tensor[] Grads) Run(DispatchMode mode, Tensor x, Tensor indices, Tensor gates)
    {
        manual_seed(11);
        var experts = new RoutedExperts(16, 6, 8);
        using (no_grad()) foreach (var p in experts.parameters()) p.normal_(0, 0.1);
        var xi = x.clone().requires_grad_();
        var gi = gates.clone().requires_grad_();
        var y = experts.Forward(xi, indices, gi, mode);
        (y * y.detach().sin()).sum().backward(); // a non-trivial upstream gradient
        var grads = experts.parameters().Select(p => p.grad ?? zeros_like(p)).Append(xi.grad!).Append(gi.grad!).ToArray();
        return (y.detach(), grads);
    }

    [Fact]
    public void GroupedAndReferenceAgreeInOutputAndGradients()
    {
        manual_seed(2);
        var x = randn(10, 16);
        // Experts 4 and 5 receive no tokens; expert 1 receives many.
        var indices = tensor(new long[] { 1, 0, 1, 2, 3, 1, 1, 0, 2, 1, 0, 3, 1, 2, 3, 0, 1, 3, 2, 1 }).view(10, 2);
        var gates = rand(10, 2);
        var (yRef, gRef) = Run(DispatchMode.Reference, x, indices, gates);
        var (yFast, gFast) = Run(DispatchMode.Grouped, x, indices, gates);
        Assert.True(yRef.allclose(yFast, rtol: 1e-5, atol: 1e-6), "outputs differ");
        Assert.Equal(gRef.Length, gFast.Length);
        for (int i = 0; i < gRef.Length; i++)
            Assert.True(gRef[i].allclose(gFast[i], rtol: 1e-4, atol: 1e-6), $"gradient {i} differs");
        // The experts that got no tokens have zero gradient in both paths.
        Assert.Equal(0f, gFast[0][4..].abs().sum().item<float>());
    }

    [Fact]
    public void WholeModelAgreesAcrossDispatchModes()
    {
        Tensor Logits(DispatchMode mode)
        {
            manual_seed(21);
            using var model = new FlameModel(TinyModels.Moe);
            model.Dispatch = mode;
            manual_seed(22);
            using var _ = no_grad();
            return model.forward(randint(0, 100, [2, 12])).Logits.clone();
        }
        Assert.True(Logits(DispatchMode.Reference).allclose(Logits(DispatchMode.Grouped), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void MoeLayerReturnsItsRoutingDecisions()
    {
        manual_seed(4);
        var layer = new MoeLayer(TinyModels.Moe);
        ModelInitializer.Initialize(layer, TinyModels.Moe);
        var x = randn(2, 5, 32);
        var output = layer.forward(x);
        Assert.Equal(new long[] { 10, 2 }, output.Routing.Indices.shape);
        Assert.Equal(new long[] { 10, 2 }, output.Routing.Gates.shape);
        // Gates are the top-2 of the full softmax, sorted descending.
        var (top, _) = output.Routing.Probs.topk(2);
        Assert.True(top.allclose(output.Routing.Gates));
        Assert.True(output.Routing.Gates[.., 0].ge(output.Routing.Gates[.., 1]).all().item<bool>());
    }
}
