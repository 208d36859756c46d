using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// How a MoE layer's routed (token, slot) rows reach the experts that compute them and come back (torchtitan's
/// token dispatchers, Megatron's MoETokenDispatcher): <see cref="LocalTokenDispatcher"/> when every expert is on
/// this process, Flame.Distributed.AllToAllTokenDispatcher when expert parallelism splits them over ranks. Both
/// start from the same <see cref="ExpertSort"/>.
/// </summary>
public interface ITokenDispatcher
{
    /// <param name="x">[tokens, h] this rank's tokens.</param>
    /// <param name="indices">[tokens, k] global expert ids.</param>
    /// <param name="experts">computes this rank's experts over rows sorted by local expert, given their cumulative row ends (int32).</param>
    /// <returns>[tokens * k, h]: each (token, slot)'s expert output, in (token, slot) order.</returns>
    Tensor Run(Tensor x, Tensor indices, Func<Tensor, Tensor, Tensor> experts);
}
