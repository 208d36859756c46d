using Flame.Data.Samples;
using Flame.Distributed;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>
/// Where a training step's token ids come from, as [micro-batch, seq + 1] int64 on the device: a token file's
/// training split read as <see cref="DataParallelSampler"/> assigns its samples (the trainer's data), or one synthetic
/// global batch repeated every step (benchmarks without a corpus), split over ranks and micro-batches the same way,
/// so one process and any layout of N ranks see the same sequences.
/// </summary>
public abstract class TokenBatches : IDisposable
{
    /// <summary>"synthetic", or the dataset prefix.</summary>
    public abstract string Source { get; }

    public abstract Tensor Get(long step, int micro);

    /// <summary>
    /// A token file's training split (Megatron's GPTDataset: <paramref name="samples"/> fixes the epochs its shuffled
    /// order covers). Each batch is assembled on the host and copied from pinned memory without blocking, so the host
    /// never waits for the device inside a step.
    /// </summary>
    public static TokenBatches FromFile(IReadOnlyList<string> dataPath, int sequence, long seed, long samples,
        DataParallelSampler sampler, int vocabSize, Device device) =>
        new FileBatches(string.Join(" ", dataPath),
            DataPath.Parse(dataPath).Open(new GptSampleOptions(sequence, SplitName.Train, Seed: seed, Samples: samples)), sampler, vocabSize, device);

    /// <summary>One global batch of uniform ids from <paramref name="seed"/> (drawn on the CPU: the same on every device), sliced per rank and micro-batch once.</summary>
    public static TokenBatches Synthetic(DataParallelSampler sampler, int sequence, int vocabSize, Device device, long seed) =>
        new SyntheticBatches(sampler, sequence, vocabSize, device, seed);

    public abstract void Dispose();

    sealed class FileBatches(string source, OpenedSamples samples, DataParallelSampler sampler, int vocabSize, Device device) : TokenBatches
    {
        public override string Source => source;
        public override Tensor Get(long step, int micro) => SampleBatch.ToDevice(samples, sampler.Samples(step, micro), vocabSize, device);
        public override void Dispose() => samples.Dispose();
    }

    sealed class SyntheticBatches : TokenBatches
    {
        readonly Tensor[] _micro;

        public SyntheticBatches(DataParallelSampler sampler, int sequence, int vocabSize, Device device, long seed)
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)seed);
            var global = randint(0, vocabSize, [sampler.GlobalBatch, sequence + 1], generator: generator);
            _micro = Enumerable.Range(0, sampler.Accumulation)
                .Select(m => global.index_select(0, tensor(sampler.Samples(0, m))).to(device).DetachFromDisposeScope()).ToArray();
        }

        public override string Source => "synthetic";
        public override Tensor Get(long step, int micro) => _micro[micro];
        public override void Dispose()
        {
            foreach (var t in _micro) t.Dispose();
        }
    }
}
