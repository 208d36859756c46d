namespace Flame.Scaling;

/// <summary>Approach 3's law (spec §3): L(N, D) = E + A / N^alpha + B / D^beta.</summary>
public sealed record ParametricLaw(double E, double A, double Alpha, double B, double Beta)
{
    public double Loss(double n, double d) => E + A / Math.Pow(n, Alpha) + B / Math.Pow(d, Beta);

    /// <summary>a in N_opt ∝ C^a: beta / (alpha + beta).</summary>
    public double ParamsExponent => Beta / (Alpha + Beta);

    /// <summary>b in D_opt ∝ C^b: alpha / (alpha + beta).</summary>
    public double TokensExponent => Alpha / (Alpha + Beta);

    /// <summary>FLAME-MoE's published fit (spec §3).</summary>
    public static readonly ParametricLaw FlameMoe = new(2.241716, 148.413257, 0.279702, 3269017.372472, 0.715500);
}
