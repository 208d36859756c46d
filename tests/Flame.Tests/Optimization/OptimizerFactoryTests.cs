using Flame.Optimization;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tests.Optimization;

public class OptimizerFactoryTests
{
    [Fact]
    public void FirstStepMatchesHandComputedDecoupledAdam()
    {
        var matrix = new TorchSharp.Modules.Parameter(ones(1, 1));
        var vector = new TorchSharp.Modules.Parameter(ones(1));
        using var optimizer = OptimizerFactory.Create([("w", matrix), ("norm.weight", vector)], new OptimizerSettings(), 0.5);
        OptimizerFactory.SetLearningRate(optimizer, 0.1);
        matrix.grad = full(1, 1, 0.5f);
        vector.grad = full(1, 0.5f);
        optimizer.step();
        // Step 1, g = 0.5: m_hat = 0.5, v_hat = 0.25, so the Adam update is lr * 0.5 / (0.5 + 1e-8) = 0.1.
        // The matrix first decays by lr * wd: 1 * (1 - 0.1 * 0.01) = 0.999, then 0.999 - 0.1 = 0.899.
        Assert.Equal(0.899, matrix.item<float>(), 1e-6);
        // 1-D parameters (norm weights) do not decay: 1 - 0.1 = 0.9.
        Assert.Equal(0.9, vector.item<float>(), 1e-6);
    }
}
