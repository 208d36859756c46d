namespace Flame.Scaling;

/// <summary>Starting points of Approach 3's optimiser, in the fitted variables e = ln E, a = ln A, b = ln B.</summary>
public sealed record StartGrid(double[] E, double[] A, double[] Alpha, double[] B, double[] Beta)
{
    /// <summary>Spec §3: e in {-1..1 by 0.5}, a and b in {0..25 by 5}, alpha and beta in {0..2 by 0.5}: 4500 starts.</summary>
    public static readonly StartGrid Full = new(
        [-1, -0.5, 0, 0.5, 1], [0, 5, 10, 15, 20, 25], [0, 0.5, 1, 1.5, 2], [0, 5, 10, 15, 20, 25], [0, 0.5, 1, 1.5, 2]);

    /// <summary>A 3x3x2x3x2 = 108-start subset for bootstrap replicates, where 4500 starts each would be slow.</summary>
    public static readonly StartGrid Reduced = new([-0.5, 0, 0.5], [0, 10, 20], [0.5, 1], [0, 10, 20], [0.5, 1]);

    public int Count => E.Length * A.Length * Alpha.Length * B.Length * Beta.Length;

    public IEnumerable<double[]> Points() =>
        from e in E from a in A from alpha in Alpha from b in B from beta in Beta select new[] { e, a, alpha, b, beta };
}
