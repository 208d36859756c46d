using ParquetSharp;
using ParquetSharp.Schema;

namespace Flame.Tracing.Parquet;

/// <summary>
/// Writes the published FLAME-MoE trace schema (spec §5) through ParquetSharp (Arrow's C++ writer): list
/// columns in the three-level LIST form pyarrow writes (optional group / repeated group "list" / optional
/// "element"), int16 as INT32 annotated INT(16, signed), float16 as FIXED_LEN_BYTE_ARRAY(2) annotated FLOAT16,
/// PLAIN values in ZSTD pages, one row group per <see cref="WriteRowGroup"/>. Values go in through the
/// low-level column writers with explicit levels (the logical writers take an array per row).
/// Output goes to a temporary file renamed into place by <see cref="Complete"/>.
/// </summary>
public sealed class TraceParquetWriter : IDisposable
{
    /// <summary>Entries handed to the native writer per call (levels and values are staged in buffers this long).</summary>
    const int Batch = 1 << 16;

    readonly string _path;
    readonly string _temporary;
    readonly IReadOnlyList<TraceColumn> _columns;
    readonly ParquetFileWriter _writer;
    readonly short[] _repetition = new short[Batch], _definition = new short[Batch];
    int[]? _widened;
    FixedLenByteArray[]? _pointers;
    int _levelsListLength;
    bool _completed;

    public TraceParquetWriter(string path, IReadOnlyList<TraceColumn> columns)
    {
        _path = path;
        _columns = columns;
        _temporary = Output.TemporaryFiles.For(path);
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        Output.TemporaryFiles.RemoveAbandoned(folder, System.IO.Path.GetFileName(path)); // what a killed writer of this file left
        using var schema = Schema(columns);
        using var properties = new WriterPropertiesBuilder()
            .Compression(Compression.Zstd).CompressionLevel(1)
            .DisableDictionary()
            .Build();
        _writer = new ParquetFileWriter(_temporary, schema, properties);
    }

    static GroupNode Schema(IReadOnlyList<TraceColumn> columns)
    {
        var fields = new List<Node>();
        foreach (var column in columns)
        {
            switch (column.Kind)
            {
                case TraceColumnKind.Int32:
                    fields.Add(new PrimitiveNode(column.Name, Repetition.Required, LogicalType.None(), PhysicalType.Int32));
                    break;
                case TraceColumnKind.Int16List:
                    fields.Add(List(column.Name, new PrimitiveNode("element", Repetition.Optional, LogicalType.Int(16, isSigned: true), PhysicalType.Int32)));
                    break;
                case TraceColumnKind.Float16List:
                    fields.Add(List(column.Name, new PrimitiveNode("element", Repetition.Optional, LogicalType.Float16(), PhysicalType.FixedLenByteArray, 2)));
                    break;
            }
        }
        return new GroupNode("schema", Repetition.Required, fields);
    }

    static GroupNode List(string name, Node element) =>
        new(name, Repetition.Optional, [new GroupNode("list", Repetition.Repeated, [element])], LogicalType.List());

    public void WriteRowGroup(IReadOnlyList<TraceColumnData> data)
    {
        if (data.Count != _columns.Count) throw new ArgumentException($"{data.Count} columns given, the schema has {_columns.Count}");
        int rows = data[0].Rows;
        if (rows == 0) return;
        for (int c = 0; c < _columns.Count; c++)
            if (data[c].Rows != rows) throw new ArgumentException($"column {_columns[c].Name} has {data[c].Rows} rows, expected {rows}");
        using var group = _writer.AppendRowGroup();
        foreach (var column in data)
        {
            using var writer = group.NextColumn();
            switch (column)
            {
                case TraceColumnData.Int32Values v:
                    ((ColumnWriter<int>)writer).WriteBatch(v.Values);
                    break;
                case TraceColumnData.Int16Lists l:
                    WriteInt16Lists((ColumnWriter<int>)writer, l.Values, l.ListLength);
                    break;
                case TraceColumnData.Float16Lists f:
                    WriteFloat16Lists((ColumnWriter<FixedLenByteArray>)writer, f.Values, f.ListLength);
                    break;
            }
        }
    }

    /// <summary>Batch length for whole lists, with the level buffers filled for that list length.</summary>
    int ListLevels(int listLength)
    {
        if (listLength < 1 || listLength > Batch) throw new ArgumentException($"list length {listLength} is outside 1..{Batch}");
        int batch = Batch / listLength * listLength;
        if (_levelsListLength != listLength)
        {
            // Every list is present with every element defined (max definition 3); a row starts at repetition 0.
            for (int i = 0; i < batch; i++) { _repetition[i] = (short)(i % listLength == 0 ? 0 : 1); _definition[i] = 3; }
            _levelsListLength = listLength;
        }
        return batch;
    }

    void WriteInt16Lists(ColumnWriter<int> writer, short[] values, int listLength)
    {
        int batch = ListLevels(listLength);
        _widened ??= new int[Batch];
        for (int first = 0; first < values.Length; first += batch)
        {
            int count = Math.Min(batch, values.Length - first);
            for (int i = 0; i < count; i++) _widened[i] = values[first + i];
            writer.WriteBatch(count, _definition.AsSpan(0, count), _repetition.AsSpan(0, count), _widened.AsSpan(0, count));
        }
    }

    unsafe void WriteFloat16Lists(ColumnWriter<FixedLenByteArray> writer, Half[] values, int listLength)
    {
        int batch = ListLevels(listLength);
        _pointers ??= new FixedLenByteArray[Batch];
        fixed (Half* start = values)
        {
            for (int first = 0; first < values.Length; first += batch)
            {
                int count = Math.Min(batch, values.Length - first);
                for (int i = 0; i < count; i++) _pointers[i] = new FixedLenByteArray((IntPtr)(start + first + i));
                writer.WriteBatch(count, _definition.AsSpan(0, count), _repetition.AsSpan(0, count), _pointers.AsSpan(0, count));
            }
        }
    }

    /// <summary>Writes the footer and renames the file into place.</summary>
    public void Complete()
    {
        _writer.Close();
        _writer.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _completed = true;
    }

    public void Dispose()
    {
        if (_completed) return;
        _writer.Dispose();
        File.Delete(_temporary);
    }
}
