using Flame.Tracing.Parquet;

namespace Flame.Tracing;

/// <summary>
/// Streams the `indices` column of one actives/iter_X/layer_NN.parquet file a row group at a time, as
/// rows of exactly k expert ids, checking as it goes: schema, no null lists, equal list lengths, ids
/// within 0..experts-1. Memory is one row group. Problems throw <see cref="TraceFileException"/>.
/// </summary>
public sealed class RoutingCursor : IDisposable
{
    readonly TraceParquetReader _reader;
    readonly ParquetLeafColumn _indices;
    readonly int _experts;
    int _group = -1, _position, _rows;
    int[] _values = [];
    ParquetColumnValues? _buffers;

    public string Path { get; }
    public long Rows => _reader.Rows;
    public int TopK { get; private set; }

    RoutingCursor(string path, TraceParquetReader reader, ParquetLeafColumn indices, int experts, int topK)
    {
        Path = path; _reader = reader; _indices = indices; _experts = experts; TopK = topK;
    }

    /// <param name="topK">the list length every row must have; 0 takes it from the first row.</param>
    public static RoutingCursor Open(string path, int experts, int topK)
    {
        TraceParquetReader reader;
        try { reader = TraceParquetReader.Open(path); }
        catch (Exception e) when (e is InvalidDataException or IOException) { throw new TraceFileException(path, e.Message); }
        var indices = reader.Column(TraceLayout.IndicesColumn);
        var scores = reader.Column(TraceLayout.ScoresColumn);
        if (indices is null || scores is null || indices.MaxRepetition != 1 || !indices.IsInteger || scores.MaxRepetition != 1 || !scores.IsFloat)
        {
            var found = reader.DescribeColumns();
            reader.Dispose();
            throw new TraceFileException(path, $"wrong schema: expected scores: list<float16> and indices: list<int16>, found {found}");
        }
        return new RoutingCursor(path, reader, indices, experts, topK);
    }

    public int Available => _rows - _position;

    /// <summary>The rows not yet consumed of the current row group, k ids each.</summary>
    public ReadOnlySpan<int> Current => _values.AsSpan(_position * TopK, Available * TopK);

    /// <summary>Loads the next row group when the current one is used up; false at the end of the file.</summary>
    public bool Fill()
    {
        while (Available == 0)
        {
            if (++_group >= _reader.RowGroupCount) return false;
            Load(_group);
        }
        return true;
    }

    public void Advance(int rows) => _position += rows;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    void Load(int group)
    {
        ParquetColumnValues column;
        try { column = _buffers = _reader.Read(group, _indices, _buffers); }
        catch (Exception e) when (e is InvalidDataException or IOException) { throw new TraceFileException(Path, e.Message); }
        long expectedRows = _reader.RowGroupRows(group);
        var rep = column.Repetition!;
        var def = column.Definition;
        int max = _indices.MaxDefinition;
        if (column.Entries == 0) { _rows = 0; _position = 0; return; }
        if (TopK == 0)
        {
            int k = 1;
            while (k < column.Entries && rep[k] != 0) k++;
            TopK = k;
        }
        int topK = TopK;
        if (column.Entries != expectedRows * topK || column.DefinedCount != column.Entries)
            throw new TraceFileException(Path, $"row group {group}: {column.Entries} index entries for {expectedRows} rows; every row must hold exactly {topK} expert ids (no nulls)");
        int entries = column.Entries;
        if (!ListsAreWhole(rep.AsSpan(0, entries), def is null ? default : def.AsSpan(0, entries), (short)max, topK, (int)expectedRows))
            for (int i = 0, slot = 0; i < entries; i++)
            {
                if (rep[i] != (slot == 0 ? 0 : 1) || (def is not null && def[i] != max))
                    throw new TraceFileException(Path, $"row {RowOffset(group) + i / topK}: its indices list does not hold exactly {topK} expert ids");
                if (++slot == topK) slot = 0;
            }
        var values = column.Ints!;
        // Vectorised range check; the scalar scan only runs to name the first bad row.
        if (values.AsSpan(0, entries).IndexOfAnyExceptInRange(0, _experts - 1) >= 0)
            for (int i = 0; i < entries; i++)
                if ((uint)values[i] >= (uint)_experts)
                    throw new TraceFileException(Path, $"row {RowOffset(group) + i / topK}: expert index {values[i]} is out of range 0..{_experts - 1}");
        _values = values;
        _rows = (int)expectedRows;
        _position = 0;
    }

    /// <summary>
    /// Whether every row is one list of exactly k entries, without a branch per entry: the repetition levels are all
    /// 0 or 1 (vectorised), every k-th is 0 and there are exactly rows zeros, so all the others are 1; every entry defined.
    /// </summary>
    static bool ListsAreWhole(ReadOnlySpan<short> rep, ReadOnlySpan<short> def, short defined, int k, int rows)
    {
        if (!def.IsEmpty && def.IndexOfAnyExcept(defined) >= 0) return false;
        if (rep.IndexOfAnyExceptInRange((short)0, (short)1) >= 0 || rep.Count((short)0) != rows) return false;
        for (int i = 0; i < rep.Length; i += k)
            if (rep[i] != 0) return false;
        return true;
    }

    long RowOffset(int group)
    {
        long rows = 0;
        for (int g = 0; g < group; g++) rows += _reader.RowGroupRows(g);
        return rows;
    }

    public void Dispose()
    {
        _reader.Dispose();
        _buffers?.ReturnArrays();
        _buffers = null;
        _values = [];
    }
}
