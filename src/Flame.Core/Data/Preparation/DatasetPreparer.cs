using System.Diagnostics;
using System.Threading.Channels;
using Flame.Data.Indexed;
using Flame.Data.Readers;

namespace Flame.Data.Preparation;

/// <summary>
/// Corpus to Megatron indexed dataset: one thread streams documents in batches while all cores tokenize
/// the batch before; batches are written in input order, so the output does not depend on thread timing.
/// Each document becomes one sequence ending in the end-of-document id. Empty (or all-whitespace) documents
/// are skipped and counted, as Megatron's preprocess_data drops documents without tokens.
/// The dataset appears under its final name only when everything succeeded.
/// </summary>
public static class DatasetPreparer
{
    sealed record Batch(TextDocument[] Documents);

    public static PrepareResult Run(PrepareOptions options, IProgress<PrepareProgress>? progress = null, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var log = new CorpusReadLog();
        long diskTotal = options.Inputs.Sum(f => new FileInfo(f).Length);
        var tokenizer = options.Tokenizer;
        var dtype = IndexedDTypes.BestFitting(tokenizer.VocabSize);
        var channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var reader = Task.Run(() => ReadBatches(options, log, channel.Writer, stopReading.Token));

        long raw = 0, documents = 0;
        try
        {
            using var writer = new IndexedDatasetWriter(options.OutputPrefix, dtype);
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.WorkerCount, CancellationToken = cancel };
            foreach (var batch in channel.Reader.ReadAllAsync(cancel).ToBlockingEnumerable(cancel))
            {
                var encoded = new int[batch.Documents.Length][];
                Parallel.For(0, batch.Documents.Length, parallel, i => encoded[i] = tokenizer.EncodeDocument(batch.Documents[i].Text));
                for (int i = 0; i < encoded.Length; i++)
                {
                    writer.AddDocument(encoded[i]);
                    raw += batch.Documents[i].RawBytes;
                }
                documents += encoded.Length;
                progress?.Report(new PrepareProgress(raw, documents, writer.TokenCount, log.Skipped, log.DiskBytes, diskTotal, clock.Elapsed));
            }
            reader.GetAwaiter().GetResult();
            if (documents == 0) throw new UserError(log.EmptySkipped > 0 ? $"every document of the input is empty ({log.EmptySkipped:N0}); nothing written" : "the input holds no documents; nothing written");
            writer.Complete();
            return new PrepareResult(options.OutputPrefix, documents, writer.TokenCount, raw, log.Skipped, log.Examples, dtype, clock.Elapsed, log.EmptySkipped);
        }
        catch
        {
            stopReading.Cancel();
            // Surface the reader's own error (a bad line) rather than the cancellation it caused downstream.
            try { reader.Wait(); }
            catch (AggregateException e) when (e.InnerException is UserError readerError) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(readerError); }
            catch (AggregateException) { }
            throw;
        }
    }

    static void ReadBatches(PrepareOptions options, CorpusReadLog log, ChannelWriter<Batch> output, CancellationToken cancel)
    {
        try
        {
            var pending = new List<TextDocument>(options.BatchDocuments);
            foreach (var doc in CorpusReader.Read(options.Inputs, options.Read, log))
            {
                cancel.ThrowIfCancellationRequested();
                if (string.IsNullOrWhiteSpace(doc.Text))
                {
                    log.SkipEmpty();
                    continue;
                }
                pending.Add(doc);
                if (pending.Count == options.BatchDocuments)
                {
                    output.WriteAsync(new Batch([.. pending]), cancel).AsTask().GetAwaiter().GetResult();
                    pending.Clear();
                }
            }
            if (pending.Count > 0) output.WriteAsync(new Batch([.. pending]), cancel).AsTask().GetAwaiter().GetResult();
            output.Complete();
        }
        catch (Exception e)
        {
            output.Complete(e);
            throw;
        }
    }
}
