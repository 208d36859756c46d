using Flame.Tracing.Parquet;

namespace Flame.Tracing;

/// <summary>One MoE layer's routing rows of one checkpoint, gathered into row groups and written as layer_NN.parquet.</summary>
internal sealed class RoutingBuffer(string path, int topK, int rowGroupRows) : IDisposable
{
    public static readonly TraceColumn[] Schema =
        [new(TraceLayout.ScoresColumn, TraceColumnKind.Float16List), new(TraceLayout.IndicesColumn, TraceColumnKind.Int16List)];

    readonly TraceParquetWriter _writer = new(path, Schema);
    readonly Half[] _scores = new Half[rowGroupRows * topK];
    readonly short[] _indices = new short[rowGroupRows * topK];
    int _rows;

    public void Add(ReadOnlySpan<float> gates, ReadOnlySpan<short> indices)
    {
        int rows = indices.Length / topK, done = 0;
        while (done < rows)
        {
            int take = Math.Min(rows - done, rowGroupRows - _rows);
            for (int i = 0; i < take * topK; i++) _scores[_rows * topK + i] = (Half)gates[done * topK + i];
            indices.Slice(done * topK, take * topK).CopyTo(_indices.AsSpan(_rows * topK));
            _rows += take; done += take;
            if (_rows == rowGroupRows) Flush();
        }
    }

    void Flush()
    {
        if (_rows == 0) return;
        _writer.WriteRowGroup([
            new TraceColumnData.Float16Lists(_scores[..(_rows * topK)], topK),
            new TraceColumnData.Int16Lists(_indices[..(_rows * topK)], topK)]);
        _rows = 0;
    }

    public void Complete() { Flush(); _writer.Complete(); }

    public void Dispose() => _writer.Dispose();
}
