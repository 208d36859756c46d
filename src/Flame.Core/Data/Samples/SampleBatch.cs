using TorchSharp;

namespace Flame.Data.Samples;

/// <summary>
/// Gathers samples into the [B, seq+1] int64 batch the trainer feeds (inputs = [:, :-1], labels = [:, 1:]).
/// Every id is checked against the model's vocabulary on the host while it is copied (free, no device
/// sync): data tokenized with a larger vocabulary than the model's is a user mistake that libtorch would
/// otherwise report as an index error from deep inside the embedding.
/// </summary>
public static class SampleBatch
{
    public static void Fill(ISampleSource source, ReadOnlySpan<long> indices, Span<long> destination, int vocabSize)
    {
        int width = source.SequenceLength + 1;
        if (destination.Length != indices.Length * width) throw new ArgumentException($"destination holds {destination.Length} tokens, {indices.Length} samples need {indices.Length * width}");
        var row = new int[width];
        for (int b = 0; b < indices.Length; b++)
        {
            source.GetSample(indices[b], row);
            var target = destination.Slice(b * width, width);
            int largest = 0;
            for (int t = 0; t < width; t++)
            {
                target[t] = row[t];
                largest = Math.Max(largest, row[t]);
            }
            if (largest >= vocabSize)
                throw new UserError($"sample {indices[b]} holds token id {largest}, but the model's vocabulary has {vocabSize} ids " +
                    $"(model.vocab_size): the data was tokenized with a larger vocabulary; set model.vocab_size to at least {largest + 1}, " +
                    "or prepare the data with the model's tokenizer");
        }
    }

    public static torch.Tensor ToTensor(ISampleSource source, ReadOnlySpan<long> indices, int vocabSize)
    {
        var data = new long[indices.Length * (source.SequenceLength + 1)];
        Fill(source, indices, data, vocabSize);
        return torch.tensor(data, [indices.Length, source.SequenceLength + 1], torch.int64);
    }

    /// <summary>
    /// The batch on a device. On CUDA it goes through pinned memory with a non-blocking copy, so feeding a
    /// batch never waits for the GPU (a pageable copy would synchronise the host with the stream every micro-batch).
    /// </summary>
    public static torch.Tensor ToDevice(ISampleSource source, ReadOnlySpan<long> indices, int vocabSize, torch.Device device)
    {
        var host = ToTensor(source, indices, vocabSize);
        return device.type == DeviceType.CUDA ? host.pin_memory().to(device, non_blocking: true) : host;
    }
}
