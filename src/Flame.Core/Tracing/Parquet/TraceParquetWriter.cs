using System.Runtime.InteropServices;

namespace Flame.Tracing.Parquet;

/// <summary>
/// Writes the published FLAME-MoE trace schema (spec §5) as standard Parquet: list columns in the
/// three-level LIST form pyarrow writes (optional group / repeated group "list" / optional "element"),
/// PLAIN values, RLE levels, ZSTD pages of at most <see cref="PageRows"/> rows, one row group per
/// <see cref="WriteRowGroup"/>. Parquet.Net 6.1 cannot write float16, hence this writer; reading goes
/// through Parquet.Net. Output goes to a temporary file renamed into place by <see cref="Complete"/>.
/// </summary>
public sealed class TraceParquetWriter : IDisposable
{
    public const int PageRows = 65536;
    const int ParquetInt32 = 1, ParquetFixedLen = 7;
    const int Required = 0, Optional = 1, Repeated = 2;
    const int ConvertedList = 3, ConvertedInt16 = 16;
    const int EncodingPlain = 0, EncodingRle = 3;
    const int CodecZstd = 6;

    readonly string _path;
    readonly string _temporary;
    readonly FileStream _file;
    readonly IReadOnlyList<TraceColumn> _columns;
    readonly List<(long Rows, List<ChunkInfo> Chunks)> _rowGroups = [];
    readonly ZstdSharp.Compressor _zstd = new(1);
    bool _completed;

    sealed record ChunkInfo(long Offset, long Values, long Uncompressed, long Compressed);

    public TraceParquetWriter(string path, IReadOnlyList<TraceColumn> columns)
    {
        _path = path;
        _columns = columns;
        _temporary = path + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _file = new FileStream(_temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        _file.Write("PAR1"u8);
    }

    public void WriteRowGroup(IReadOnlyList<TraceColumnData> data)
    {
        if (data.Count != _columns.Count) throw new ArgumentException($"{data.Count} columns given, the schema has {_columns.Count}");
        int rows = data[0].Rows;
        if (rows == 0) return;
        var chunks = new List<ChunkInfo>();
        for (int c = 0; c < _columns.Count; c++)
        {
            if (data[c].Rows != rows) throw new ArgumentException($"column {_columns[c].Name} has {data[c].Rows} rows, expected {rows}");
            chunks.Add(WriteChunk(_columns[c], data[c], rows));
        }
        _rowGroups.Add((rows, chunks));
    }

    ChunkInfo WriteChunk(TraceColumn column, TraceColumnData data, int rows)
    {
        long offset = _file.Position, uncompressed = 0, compressed = 0, values = 0;
        for (int first = 0; first < rows; first += PageRows)
        {
            int pageRows = Math.Min(PageRows, rows - first);
            var (body, count) = PageBody(data, first, pageRows);
            var packed = _zstd.Wrap(body).ToArray();
            using var header = new MemoryStream();
            var thrift = new ThriftCompactWriter(header);
            thrift.FieldI32(1, 0);                       // PageType DATA_PAGE
            thrift.FieldI32(2, body.Length);
            thrift.FieldI32(3, packed.Length);
            thrift.BeginStruct(5);                       // DataPageHeader
            thrift.FieldI32(1, count);
            thrift.FieldI32(2, EncodingPlain);
            thrift.FieldI32(3, EncodingRle);
            thrift.FieldI32(4, EncodingRle);
            thrift.EndStruct();
            thrift.Stop();
            _file.Write(header.GetBuffer().AsSpan(0, (int)header.Length));
            _file.Write(packed);
            uncompressed += header.Length + body.Length;
            compressed += header.Length + packed.Length;
            values += count;
        }
        return new ChunkInfo(offset, values, uncompressed, compressed);
    }

    /// <summary>A v1 data page body: [repetition levels][definition levels] values, levels length-prefixed.</summary>
    static (byte[] Body, int Values) PageBody(TraceColumnData data, int firstRow, int rows)
    {
        using var body = new MemoryStream();
        switch (data)
        {
            case TraceColumnData.Int32Values v:
                body.Write(MemoryMarshal.AsBytes(v.Values.AsSpan(firstRow, rows)));
                return (body.ToArray(), rows);
            case TraceColumnData.Int16Lists l:
                WriteListLevels(body, rows, l.ListLength);
                var widened = new int[rows * l.ListLength];
                var source = l.Values.AsSpan(firstRow * l.ListLength, widened.Length);
                for (int i = 0; i < widened.Length; i++) widened[i] = source[i];
                body.Write(MemoryMarshal.AsBytes(widened.AsSpan()));
                return (body.ToArray(), widened.Length);
            case TraceColumnData.Float16Lists f:
                WriteListLevels(body, rows, f.ListLength);
                body.Write(MemoryMarshal.AsBytes(f.Values.AsSpan(firstRow * f.ListLength, rows * f.ListLength)));
                return (body.ToArray(), rows * f.ListLength);
            default: throw new InvalidOperationException();
        }
    }

    static void WriteListLevels(Stream body, int rows, int listLength)
    {
        foreach (var levels in new[] { RleLevels.ListStarts(rows, listLength), RleLevels.Constant(3, rows * listLength) })
        {
            body.Write(BitConverter.GetBytes(levels.Length));
            body.Write(levels);
        }
    }

    /// <summary>Writes the footer and renames the file into place.</summary>
    public void Complete()
    {
        long rows = _rowGroups.Sum(g => g.Rows);
        using var footer = new MemoryStream();
        var thrift = new ThriftCompactWriter(footer);
        thrift.FieldI32(1, 1);                                   // version
        var schema = SchemaElements();
        thrift.FieldListBegin(2, ThriftCompactWriter.Struct, schema.Count);
        foreach (var write in schema) { thrift.BeginListStruct(); write(thrift); thrift.EndStruct(); }
        thrift.FieldI64(3, rows);
        thrift.FieldListBegin(4, ThriftCompactWriter.Struct, _rowGroups.Count);
        foreach (var (groupRows, chunks) in _rowGroups)
        {
            thrift.BeginListStruct();
            thrift.FieldListBegin(1, ThriftCompactWriter.Struct, chunks.Count);
            for (int c = 0; c < chunks.Count; c++) WriteColumnChunk(thrift, _columns[c], chunks[c]);
            thrift.FieldI64(2, chunks.Sum(x => x.Uncompressed));
            thrift.FieldI64(3, groupRows);
            thrift.EndStruct();
        }
        thrift.FieldString(6, "flame (FLAME-MoE trace writer)");
        thrift.Stop();
        _file.Write(footer.GetBuffer().AsSpan(0, (int)footer.Length));
        _file.Write(BitConverter.GetBytes((int)footer.Length));
        _file.Write("PAR1"u8);
        _file.Flush();
        _file.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _completed = true;
    }

    static void WriteColumnChunk(ThriftCompactWriter thrift, TraceColumn column, ChunkInfo chunk)
    {
        thrift.BeginListStruct();
        thrift.FieldI64(2, chunk.Offset);                        // file_offset
        thrift.BeginStruct(3);                                   // ColumnMetaData
        thrift.FieldI32(1, column.Kind == TraceColumnKind.Float16List ? ParquetFixedLen : ParquetInt32);
        bool list = column.Kind != TraceColumnKind.Int32;
        thrift.FieldListBegin(2, ThriftCompactWriter.I32, list ? 2 : 1);
        thrift.ListI32(EncodingPlain);
        if (list) thrift.ListI32(EncodingRle);
        string[] path = list ? [column.Name, "list", "element"] : [column.Name];
        thrift.FieldListBegin(3, ThriftCompactWriter.Binary, path.Length);
        foreach (var part in path) thrift.ListString(part);
        thrift.FieldI32(4, CodecZstd);
        thrift.FieldI64(5, chunk.Values);
        thrift.FieldI64(6, chunk.Uncompressed);
        thrift.FieldI64(7, chunk.Compressed);
        thrift.FieldI64(9, chunk.Offset);                        // data_page_offset
        thrift.EndStruct();
        thrift.EndStruct();
    }

    List<Action<ThriftCompactWriter>> SchemaElements()
    {
        var elements = new List<Action<ThriftCompactWriter>>
        {
            t => { t.FieldString(4, "schema"); t.FieldI32(5, _columns.Count); },
        };
        foreach (var column in _columns)
        {
            if (column.Kind == TraceColumnKind.Int32)
            {
                elements.Add(t => { t.FieldI32(1, ParquetInt32); t.FieldI32(3, Required); t.FieldString(4, column.Name); });
                continue;
            }
            elements.Add(t =>
            {
                t.FieldI32(3, Optional); t.FieldString(4, column.Name); t.FieldI32(5, 1); t.FieldI32(6, ConvertedList);
                t.BeginStruct(10); t.BeginStruct(3); t.EndStruct(); t.EndStruct();           // LogicalType LIST
            });
            elements.Add(t => { t.FieldI32(3, Repeated); t.FieldString(4, "list"); t.FieldI32(5, 1); });
            if (column.Kind == TraceColumnKind.Int16List)
                elements.Add(t =>
                {
                    t.FieldI32(1, ParquetInt32); t.FieldI32(3, Optional); t.FieldString(4, "element"); t.FieldI32(6, ConvertedInt16);
                    t.BeginStruct(10); t.BeginStruct(10);                                    // LogicalType INTEGER
                    t.FieldByte(1, 16); t.FieldBool(2, true);
                    t.EndStruct(); t.EndStruct();
                });
            else
                elements.Add(t =>
                {
                    t.FieldI32(1, ParquetFixedLen); t.FieldI32(2, 2); t.FieldI32(3, Optional); t.FieldString(4, "element");
                    t.BeginStruct(10); t.BeginStruct(15); t.EndStruct(); t.EndStruct();      // LogicalType FLOAT16
                });
        }
        return elements;
    }

    public void Dispose()
    {
        _zstd.Dispose();
        if (_completed) return;
        _file.Dispose();
        File.Delete(_temporary);
    }
}
