using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>
/// The model tensors of one Megatron-LM checkpoint iteration, whatever its format, under one naming: the
/// legacy state-dict names of megatron/core (e.g. `decoder.layers.3.mlp.experts.local_experts.17.linear_fc1.weight`)
/// with expert ids global across expert-parallel ranks. TransformerEngine's `_extra_state` entries are left out.
/// </summary>
public interface IMegatronCheckpoint : IDisposable
{
    /// <summary>The iteration folder, for messages.</summary>
    string Source { get; }

    MegatronArgs Args { get; }

    long Iteration { get; }

    IReadOnlyCollection<string> Names { get; }

    long[] Shape(string name);

    /// <summary>The tensor in float32, contiguous, on the CPU.</summary>
    Tensor Read(string name);
}
