using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Checkpointing;

/// <summary>
/// TorchSharp's own checkpoint formats, written and read one tensor at a time, so that a tensor split between
/// ranks is gathered (or sliced on load) alone and no process ever holds the whole model or optimizer state:
/// <c>Module.save</c> (LEB128 count, then name and tensor per entry) and <c>Optimizer.save_state_dict</c> for AdamW
/// (type name, LEB128 group and state counts, each group's hyperparameters, then per parameter its step, exp_avg,
/// exp_avg_sq and an AMSGrad flag). The files are byte for byte those TorchSharp writes for the whole model.
/// </summary>
public static class TorchSharpStateFiles
{
    /// <summary>One entry of a module file: its name and a function giving the full tensor (called on every rank, in order).</summary>
    public sealed record ModuleEntry(string Name, Func<Tensor> Full);

    /// <summary>One AdamW parameter state: its step and its full moments (called on every rank, in order).</summary>
    public sealed record AdamWEntry(long Step, Func<Tensor> ExpAvg, Func<Tensor> ExpAvgSq);

    /// <summary>Writes a module file; with a null path the entries are still produced (the ranks that gather but do not write).</summary>
    public static void WriteModule(string? path, IReadOnlyList<ModuleEntry> entries)
    {
        using var writer = path is null ? null : new BinaryWriter(File.Create(path));
        writer?.Encode(entries.Count);
        foreach (var entry in entries)
        {
            using var scope = NewDisposeScope();
            var full = entry.Full();
            if (writer is null) continue;
            writer.Write(entry.Name);
            full.Save(writer);
        }
    }

    /// <summary>Reads a module file entry by entry; <paramref name="take"/> receives each name and full tensor (disposed after).</summary>
    public static void ReadModule(string path, Action<string, Tensor> take)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        long count = reader.Decode();
        for (long i = 0; i < count; i++)
        {
            var name = reader.ReadString();
            using var tensor = TensorExtensionMethods.Load(reader);
            take(name, tensor);
        }
    }

    public static void WriteAdamW(string? path, IReadOnlyList<TorchSharp.Modules.OptimizerOptions> groups, IReadOnlyList<AdamWEntry> entries)
    {
        using var writer = path is null ? null : new BinaryWriter(File.Create(path));
        if (writer is not null)
        {
            writer.Write(nameof(TorchSharp.Modules.AdamW));
            writer.Encode(groups.Count);
            writer.Encode(entries.Count);
            foreach (var group in groups) group.SaveStateDict(writer);
        }
        foreach (var entry in entries)
        {
            using var scope = NewDisposeScope();
            var expAvg = entry.ExpAvg();
            var expAvgSq = entry.ExpAvgSq();
            if (writer is null) continue;
            writer.Write(entry.Step);
            expAvg.Save(writer);
            expAvgSq.Save(writer);
            writer.Write(false); // no AMSGrad maximum
        }
    }

    /// <summary>
    /// Reads an AdamW file: each group's hyperparameters into <paramref name="groups"/>, then each parameter's step and
    /// full moments into <paramref name="take"/> (index, step, exp_avg, exp_avg_sq; the tensors are disposed after).
    /// </summary>
    public static void ReadAdamW(string path, IReadOnlyList<TorchSharp.Modules.OptimizerOptions> groups, int states, Action<int, long, Tensor, Tensor> take)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var name = reader.ReadString();
        if (name != nameof(TorchSharp.Modules.AdamW)) throw new InvalidDataException($"{path}: optimizer state of {name}, not AdamW");
        long groupCount = reader.Decode(), stateCount = reader.Decode();
        if (groupCount != groups.Count || stateCount != states)
            throw new InvalidDataException($"{path}: {groupCount} groups and {stateCount} parameters, expected {groups.Count} and {states}");
        foreach (var group in groups) group.LoadStateDict(reader);
        for (int i = 0; i < states; i++)
        {
            long step = reader.ReadInt64();
            using var expAvg = TensorExtensionMethods.Load(reader);
            using var expAvgSq = TensorExtensionMethods.Load(reader);
            if (reader.ReadBoolean()) throw new InvalidDataException($"{path}: AMSGrad state is not used by Flame");
            take(i, step, expAvg, expAvgSq);
        }
    }

    /// <summary>TorchSharp's LEB128 count encoding (its codec is internal).</summary>
    static void Encode(this BinaryWriter writer, long value)
    {
        while (true)
        {
            long b = value & 0x7f;
            value >>= 7;
            if (value == 0) { writer.Write((byte)b); return; }
            writer.Write((byte)(b | 0x80));
        }
    }

    static long Decode(this BinaryReader reader)
    {
        long result = 0;
        for (int i = 0; ; i++)
        {
            long b = reader.ReadByte();
            result += (b & 0x7f) << (i * 7);
            if ((b & 0x80) == 0) return result;
        }
    }
}
