using Flame.Tracing.Parquet;

namespace Flame.Tracing;

/// <summary>
/// Streams the held-out token ids of samples/*.parquet in file order (row i = routing row i), a row
/// group at a time. Problems throw <see cref="TraceFileException"/>.
/// </summary>
public sealed class TokenCursor : IDisposable
{
    readonly IReadOnlyList<string> _files;
    int _file = -1, _group, _position;
    TraceParquetReader? _reader;
    ParquetLeafColumn? _column;
    int[] _values = [];
    int _count;
    ParquetColumnValues? _buffers;

    public TokenCursor(IReadOnlyList<string> files) => _files = files;

    public int Available => _count - _position;
    public ReadOnlySpan<int> Current => _values.AsSpan(_position, Available);
    public void Advance(int rows) => _position += rows;

    public bool Fill()
    {
        while (Available == 0)
        {
            if (_reader is null || _group >= _reader.RowGroupCount)
            {
                _reader?.Dispose();
                _reader = null;
                if (++_file >= _files.Count) return false;
                _reader = OpenSamples(_files[_file], out _column);
                _group = 0;
                continue;
            }
            try
            {
                var column = _buffers = _reader.Read(_group++, _column!, _buffers);
                if (column.DefinedCount != column.Entries) throw new TraceFileException(_files[_file], "token_id has nulls");
                _values = column.Ints!;
                _count = column.Entries;
                _position = 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException) { throw new TraceFileException(_files[_file], e.Message); }
        }
        return true;
    }

    /// <summary>Opens a samples file and finds its int token_id column.</summary>
    public static TraceParquetReader OpenSamples(string path, out ParquetLeafColumn column)
    {
        TraceParquetReader reader;
        try { reader = TraceParquetReader.Open(path); }
        catch (Exception e) when (e is InvalidDataException or IOException) { throw new TraceFileException(path, e.Message); }
        var found = reader.Column(TraceLayout.TokenColumn);
        if (found is null || !found.IsInteger || found.MaxRepetition != 0)
        {
            var columns = reader.DescribeColumns();
            reader.Dispose();
            throw new TraceFileException(path, $"wrong schema: expected token_id: int32, found {columns}");
        }
        column = found;
        return reader;
    }

    public void Dispose()
    {
        _reader?.Dispose();
        _buffers?.ReturnArrays();
        _buffers = null;
        _values = [];
    }
}
