using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// Every expert lives on this process (no expert parallelism; torchtitan's local token dispatch beside its
/// all-to-all one): the rows sorted by expert go straight to the experts, one grouped GEMM per projection over
/// cumulative row ends counted on the device, and come back in (token, slot) order. Nothing is read to the host.
/// </summary>
public sealed class LocalTokenDispatcher(int experts) : ITokenDispatcher
{
    public Tensor Run(Tensor x, Tensor indices, Func<Tensor, Tensor, Tensor> compute)
    {
        using var scope = NewDisposeScope();
        var sorted = ExpertSort.Of(x, indices);
        var offsets = RoutingLosses.ExpertCounts(indices, experts).cumsum(0).to(ScalarType.Int32);
        return compute(sorted.Rows, offsets).index_select(0, sorted.Inverse).MoveToOuterDisposeScope();
    }
}
