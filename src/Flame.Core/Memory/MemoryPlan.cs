namespace Flame.Memory;

/// <summary>What a byte count is: state that lives through the run, activations kept for the backward, or a buffer of one moment.</summary>
public enum MemoryKind { State, Activation, Transient }

/// <summary>One named byte count of a plan: <paramref name="Counts"/> says which tensors, with their shapes.</summary>
public sealed record MemoryItem(string Name, MemoryKind Kind, long Bytes, string Counts);

/// <summary>
/// The predicted peak of one rank's training step: named byte counts (<see cref="Items"/>) whose sum is
/// <see cref="TotalBytes"/>: state (weights, their bf16 copies, gradients, optimizer state), the activations kept for
/// the backward (per module, summed over the layers), and the largest transient buffer.
/// </summary>
public sealed record MemoryPlan(MemoryRequest Request, IReadOnlyList<MemoryItem> Items)
{
    public long TotalBytes => Items.Sum(i => i.Bytes);
    public long StateBytes => Of(MemoryKind.State);
    public long ActivationBytes => Of(MemoryKind.Activation);
    public long TransientBytes => Of(MemoryKind.Transient);

    long Of(MemoryKind kind) => Items.Where(i => i.Kind == kind).Sum(i => i.Bytes);

    /// <summary>The byte count named <paramref name="name"/> (0 when the plan has none: e.g. weight copies in fp32).</summary>
    public long this[string name] => Items.Where(i => i.Name == name).Sum(i => i.Bytes);
}
