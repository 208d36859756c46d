using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// One tensor of a Hugging Face checkpoint and how it relates to Flame's parameters, both ways:
/// <see cref="Export"/> produces it (fp32, often a view) from the model, <see cref="Import"/> writes an
/// fp32 tensor of <see cref="Shape"/> back into the model (or checks a tensor Flame cannot hold, such as a
/// zero bias). One list of links serves export and import, so the two cannot drift apart.
/// </summary>
public sealed record HfTensorLink(string Name, long[] Shape, Func<Tensor> Export, Action<Tensor> Import);
