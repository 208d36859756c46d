using Flame.Data.Samples;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>
/// The token batches of a benchmark: a token file's training split read as the trainer reads it (sample i of
/// step s is s * globalBatch + i), or synthetic ids (one fixed batch per micro-batch slot, made on the device).
/// From a file, each batch is assembled on the host and copied from pinned memory without blocking, so the
/// host never waits for the device inside a step.
/// </summary>
public sealed class BenchmarkBatches : IDisposable
{
    readonly Device _device;
    readonly int _microBatch, _accumulation, _vocabSize;
    readonly OpenedSamples? _samples;
    readonly Tensor[]? _synthetic;

    public string Source { get; }

    public BenchmarkBatches(string? dataPrefix, ModelShape shape, Device device, long totalSteps, long seed)
    {
        _device = device;
        _microBatch = shape.MicroBatch;
        _accumulation = shape.Accumulation;
        _vocabSize = shape.VocabSize;
        if (dataPrefix is null)
        {
            Source = "synthetic";
            _synthetic = Enumerable.Range(0, shape.Accumulation)
                .Select(_ => randint(0, shape.VocabSize, [shape.MicroBatch, shape.Sequence + 1], device: device).DetachFromDisposeScope())
                .ToArray();
            return;
        }
        Source = dataPrefix;
        _samples = DataPath.Parse([dataPrefix]).Open(new GptSampleOptions(shape.Sequence, SplitName.Train, Seed: seed,
            Samples: totalSteps * shape.MicroBatch * shape.Accumulation));
    }

    /// <summary>[microBatch, seq + 1] int64 on the device.</summary>
    public Tensor Get(long step, int micro)
    {
        if (_synthetic is not null) return _synthetic[micro];
        long first = step * _microBatch * _accumulation + (long)micro * _microBatch;
        var indices = Enumerable.Range(0, _microBatch).Select(i => first + i).ToArray();
        return SampleBatch.ToDevice(_samples!, indices, _vocabSize, _device);
    }

    public void Dispose()
    {
        _samples?.Dispose();
        if (_synthetic is not null) foreach (var t in _synthetic) t.Dispose();
    }
}

/// <summary>What the batches look like.</summary>
public sealed record ModelShape(int MicroBatch, int Accumulation, int Sequence, int VocabSize);
