using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// torch._grouped_mm, which TorchSharp does not bind, reached through TorchScript compiled inside
/// libtorch (platform notes, "What TorchSharp lacks"). rows [n, in] sorted by group, weights
/// [groups, in, out], offsets [groups] int32 cumulative row ends; returns [n, out]. Differentiable.
/// </summary>
public static class GroupedGemm
{
    const string Source = """
        def grouped_mm(rows: Tensor, weights: Tensor, offsets: Tensor) -> Tensor:
            return torch._grouped_mm(rows, weights, offs=offsets)
        """;

    static readonly Lazy<jit.CompilationUnit> Unit = new(() => jit.compile(Source + "\n"));

    public static Tensor Multiply(Tensor rows, Tensor weights, Tensor offsets) =>
        (Tensor)Unit.Value.invoke("grouped_mm", rows, weights, offsets);
}
