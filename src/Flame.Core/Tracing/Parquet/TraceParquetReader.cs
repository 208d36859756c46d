using System.Buffers;
using ParquetSharp;

namespace Flame.Tracing.Parquet;

/// <summary>
/// Reads trace files, whoever wrote them (this platform, pyarrow, the published FLAME-MoE traces), through
/// ParquetSharp (Apache Arrow's C++ Parquet, the implementation pyarrow uses): schema, row groups, and one
/// column chunk at a time with its repetition and definition levels, decoded by the low-level column readers
/// straight into pooled arrays (the logical readers allocate an array per row). Integers are int32/int64
/// (int16 lists are INT32 annotated INT(16)); floats are float16/float/double. Every codec, encoding and
/// page version Arrow reads is read. Anything it cannot read throws <see cref="InvalidDataException"/> with the reason.
/// </summary>
public sealed class TraceParquetReader : IDisposable
{
    /// <summary>Levels decoded per native call for columns whose values need converting (float16, int64, float, double).</summary>
    const int ConvertBatch = 65536;

    readonly ParquetFileReader _file;
    readonly long[] _rowGroupRows;
    public string Path { get; }
    public long Rows { get; }
    public IReadOnlyList<ParquetLeafColumn> Leaves { get; }
    public int RowGroupCount => _rowGroupRows.Length;

    TraceParquetReader(string path, ParquetFileReader file)
    {
        Path = path;
        _file = file;
        var meta = file.FileMetaData;
        Rows = meta.NumRows;
        _rowGroupRows = new long[meta.NumRowGroups];
        for (int g = 0; g < _rowGroupRows.Length; g++)
        {
            using var group = file.RowGroup(g);
            _rowGroupRows[g] = group.MetaData.NumRows;
        }
        var schema = meta.Schema;
        var leaves = new List<ParquetLeafColumn>(schema.NumColumns);
        for (int c = 0; c < schema.NumColumns; c++)
        {
            var column = schema.Column(c);
            using var logical = column.LogicalType;
            using var columnPath = column.Path;
            leaves.Add(new ParquetLeafColumn(columnPath.ToDotVector(), (int)column.PhysicalType, column.TypeLength,
                column.MaxRepetitionLevel, column.MaxDefinitionLevel, logical.Type == LogicalTypeEnum.Float16, c,
                logical is IntLogicalType integer ? integer.BitWidth : 0));
        }
        Leaves = leaves;
    }

    /// <summary>Opens a file; a file that is not readable Parquet throws <see cref="InvalidDataException"/>.</summary>
    public static TraceParquetReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        ParquetFileReader? file = null;
        try
        {
            file = new ParquetFileReader(path);
            return new TraceParquetReader(path, file);
        }
        catch (ParquetException e)
        {
            file?.Dispose();
            throw new InvalidDataException($"not a Parquet file ({FirstLine(e.Message)})");
        }
    }

    static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    public long RowGroupRows(int group) => _rowGroupRows[group];

    /// <summary>The leaf under a top-level field name (a list's element, or a plain column), or null.</summary>
    public ParquetLeafColumn? Column(string name) => Leaves.FirstOrDefault(l => l.Top == name);

    public string DescribeColumns() => string.Join(", ", Leaves.Select(l => $"{l.Top}: {l.Describe()}"));

    /// <summary>
    /// Reads one column chunk of one row group. Passing the previous result as <paramref name="reuse"/>
    /// recycles its arrays (arrays may then be longer than <see cref="ParquetColumnValues.Entries"/>).
    /// </summary>
    public ParquetColumnValues Read(int group, ParquetLeafColumn leaf, ParquetColumnValues? reuse = null)
    {
        try { return ReadChunk(group, leaf, reuse); }
        catch (ParquetException e)
        {
            throw new InvalidDataException($"column {leaf.Top}, row group {group}: corrupt data ({FirstLine(e.Message)})");
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    ParquetColumnValues ReadChunk(int group, ParquetLeafColumn leaf, ParquetColumnValues? reuse)
    {
        if (!leaf.IsInteger && !leaf.IsFloat) throw new InvalidDataException($"column {leaf.Top} is {leaf.Describe()}, not numbers");
        using var rowGroup = _file.RowGroup(group);
        long entries;
        using (var chunk = rowGroup.MetaData.GetColumnChunkMetaData(leaf.Index)) entries = chunk.NumValues;
        if (entries < 0 || entries > int.MaxValue / 2) throw new InvalidDataException($"column {leaf.Top}: {entries} values in one row group");

        int n = (int)entries;
        static T[] Buffer<T>(T[]? old, int n)
        {
            if (old is not null && old.Length >= n) return old;
            if (old is not null) ArrayPool<T>.Shared.Return(old);
            return ArrayPool<T>.Shared.Rent(Math.Max(1, n));
        }
        var rep = leaf.MaxRepetition > 0 ? Buffer(reuse?.Repetition, n) : null;
        var def = leaf.MaxDefinition > 0 ? Buffer(reuse?.Definition, n) : null;
        var ints = leaf.IsInteger ? Buffer(reuse?.Ints, n) : null;
        var floats = leaf.IsFloat ? Buffer(reuse?.Floats, n) : null;

        using var reader = rowGroup.Column(leaf.Index);
        int done, defined;
        switch (reader)
        {
            case ColumnReader<int> r: (done, defined) = ReadAll(r, n, def, rep, ints!); break;
            case ColumnReader<long> r: (done, defined) = ReadConverted(r, n, def, rep, ints!, v => checked((int)v)); break;
            case ColumnReader<float> r: (done, defined) = ReadAll(r, n, def, rep, floats!); break;
            case ColumnReader<double> r: (done, defined) = ReadConverted(r, n, def, rep, floats!, v => (float)v); break;
            case ColumnReader<FixedLenByteArray> r: (done, defined) = ReadFloat16(r, n, def, rep, floats!); break;
            default: throw new InvalidDataException($"column {leaf.Top} is {leaf.Describe()}, not numbers");
        }
        if (done < n) throw new InvalidDataException($"column {leaf.Top}, row group {group}: pages hold {done} values, its metadata says {n}");
        if (reader.HasNext) throw new InvalidDataException($"column {leaf.Top}, row group {group}: more values in pages than in metadata");
        return new ParquetColumnValues
        {
            Ints = ints, Floats = floats, DefinedCount = defined, Repetition = rep, Definition = def, Entries = n,
        };
    }

    /// <summary>Levels and values straight into the column's arrays, a page (or less) per native call.</summary>
    static (int Entries, int Defined) ReadAll<T>(ColumnReader<T> reader, int n, short[]? def, short[]? rep, T[] values) where T : unmanaged
    {
        int done = 0, defined = 0;
        while (done < n && reader.HasNext)
        {
            long levels = reader.ReadBatch(n - done, def.AsSpan(def is null ? 0 : done), rep.AsSpan(rep is null ? 0 : done),
                values.AsSpan(defined, n - defined), out long read);
            if (levels == 0) break;
            done += (int)levels; defined += (int)read;
        }
        return (done, defined);
    }

    static (int Entries, int Defined) ReadConverted<T, TOut>(ColumnReader<T> reader, int n, short[]? def, short[]? rep, TOut[] values, Func<T, TOut> convert)
        where T : unmanaged
    {
        var batch = ArrayPool<T>.Shared.Rent(Math.Min(n, ConvertBatch) + 1);
        try
        {
            int done = 0, defined = 0;
            while (done < n && reader.HasNext)
            {
                int want = Math.Min(n - done, batch.Length);
                long levels = reader.ReadBatch(want, def.AsSpan(def is null ? 0 : done, def is null ? 0 : want),
                    rep.AsSpan(rep is null ? 0 : done, rep is null ? 0 : want), batch.AsSpan(0, want), out long read);
                if (levels == 0) break;
                for (int i = 0; i < (int)read; i++) values[defined + i] = convert(batch[i]);
                done += (int)levels; defined += (int)read;
            }
            return (done, defined);
        }
        catch (OverflowException) { throw new InvalidDataException("an int64 value does not fit in int32"); }
        finally { ArrayPool<T>.Shared.Return(batch); }
    }

    /// <summary>FLOAT16 values arrive as pointers to 2-byte arrays in Arrow's page buffer, valid until the next call.</summary>
    static unsafe (int Entries, int Defined) ReadFloat16(ColumnReader<FixedLenByteArray> reader, int n, short[]? def, short[]? rep, float[] values)
    {
        var batch = ArrayPool<FixedLenByteArray>.Shared.Rent(Math.Min(n, ConvertBatch) + 1);
        try
        {
            int done = 0, defined = 0;
            while (done < n && reader.HasNext)
            {
                int want = Math.Min(n - done, batch.Length);
                long levels = reader.ReadBatch(want, def.AsSpan(def is null ? 0 : done, def is null ? 0 : want),
                    rep.AsSpan(rep is null ? 0 : done, rep is null ? 0 : want), batch.AsSpan(0, want), out long read);
                if (levels == 0) break;
                for (int i = 0; i < (int)read; i++) values[defined + i] = (float)*(Half*)batch[i].Pointer;
                done += (int)levels; defined += (int)read;
            }
            return (done, defined);
        }
        finally { ArrayPool<FixedLenByteArray>.Shared.Return(batch); }
    }

    public void Dispose() => _file.Dispose();
}
