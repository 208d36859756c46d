using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Tests.Model;

public class RotaryEmbeddingTests
{
    [Fact]
    public void RotatesEachHalfPairByPositionTimesFrequency()
    {
        // head dim 4, base 10000: frequencies theta_0 = 1, theta_1 = 10000^(-2/4) = 0.01.
        // Pair (x0, x2) turns by pos*1, pair (x1, x3) by pos*0.01 (rotate-half pairs dim i with i + d/2).
        var rope = new RotaryEmbedding(4, 8, 10000);
        var x = tensor(new float[] { 1, 2, 3, 4 }).view(1, 1, 1, 4).expand(1, 1, 3, 4).contiguous();
        var y = rope.Apply(x);
        for (int pos = 0; pos < 3; pos++)
        {
            double a = pos * 1.0, b = pos * 0.01;
            double[] expected =
            [
                1 * Math.Cos(a) - 3 * Math.Sin(a),
                2 * Math.Cos(b) - 4 * Math.Sin(b),
                3 * Math.Cos(a) + 1 * Math.Sin(a),
                4 * Math.Cos(b) + 2 * Math.Sin(b),
            ];
            for (int i = 0; i < 4; i++)
                Assert.Equal(expected[i], y[0, 0, pos, i].item<float>(), 1e-5);
        }
    }
}
