using Flame.Tests.Data;
using Flame.Tracing.Parquet;
using Parquet;
using Parquet.Schema;

namespace Flame.Tests.Tracing;

public class TraceParquetTests
{
    [Fact]
    public void Float16AndInt16ListsRoundTripAcrossRowGroupsAndPages()
    {
        using var dir = new TempFolder();
        var path = dir.File("layer_02.parquet");
        const int k = 6, rows = TraceParquetWriter.PageRows + 1234;
        var random = new Random(3);
        var indices = Enumerable.Range(0, rows * k).Select(_ => (short)random.Next(64)).ToArray();
        var scores = Enumerable.Range(0, rows * k).Select(_ => (Half)random.NextSingle()).ToArray();
        var tokens = Enumerable.Range(0, rows).Select(_ => random.Next(50000)).ToArray();
        using (var writer = new TraceParquetWriter(path, [new("token_id", TraceColumnKind.Int32), new("scores", TraceColumnKind.Float16List), new("indices", TraceColumnKind.Int16List)]))
        {
            writer.WriteRowGroup([new TraceColumnData.Int32Values(tokens[..100]), new TraceColumnData.Float16Lists(scores[..(100 * k)], k), new TraceColumnData.Int16Lists(indices[..(100 * k)], k)]);
            writer.WriteRowGroup([new TraceColumnData.Int32Values(tokens[100..]), new TraceColumnData.Float16Lists(scores[(100 * k)..], k), new TraceColumnData.Int16Lists(indices[(100 * k)..], k)]);
            writer.Complete();
        }
        Assert.False(File.Exists(path + ".tmp"));

        using var reader = TraceParquetReader.Open(path);
        Assert.Equal(rows, reader.Rows);
        Assert.Equal(2, reader.RowGroupCount);
        Assert.Equal("token_id: int32, scores: list<float16>, indices: list<int16>", reader.DescribeColumns());
        var readIndices = new List<int>();
        var readScores = new List<float>();
        var readTokens = new List<int>();
        for (int g = 0; g < 2; g++)
        {
            var column = reader.Read(g, reader.Column("indices")!);
            Assert.Equal(Enumerable.Range(0, column.Entries).Select(i => i % k == 0 ? 0 : 1), column.RepetitionLevels.ToArray());
            readIndices.AddRange(column.IntValues.ToArray());
            readScores.AddRange(reader.Read(g, reader.Column("scores")!).FloatValues.ToArray());
            readTokens.AddRange(reader.Read(g, reader.Column("token_id")!).IntValues.ToArray());
        }
        Assert.Equal(indices.Select(i => (int)i), readIndices);
        Assert.Equal(scores.Select(s => (float)s), readScores);
        Assert.Equal(tokens, readTokens);
    }

    [Fact]
    public async Task ParquetNetReadsWhatTheTraceWriterWrites()
    {
        // An independent reader (Parquet.Net cannot open float16 columns, so: ints only).
        using var dir = new TempFolder();
        var path = dir.File("t.parquet");
        short[] indices = [5, 3, 1, 63, 0, 7];
        using (var writer = new TraceParquetWriter(path, [new("token_id", TraceColumnKind.Int32), new("indices", TraceColumnKind.Int16List)]))
        {
            writer.WriteRowGroup([new TraceColumnData.Int32Values([11, 12]), new TraceColumnData.Int16Lists(indices, 3)]);
            writer.Complete();
        }
        await using var reader = await ParquetReader.CreateAsync(path);
        var fields = reader.Schema.DataFields;
        Assert.Equal(typeof(short), fields[1].ClrType);
        Assert.Equal(1, fields[1].MaxRepetitionLevel);
        using var group = reader.OpenRowGroupReader(0);
        var tokens = new int[2];
        await group.ReadAsync<int>(fields[0], tokens, null);
        var values = new short[6];
        var repetition = new int[6];
        var definition = new int[6];
        await group.ReadRawAsync<short>(fields[1], values, definition, repetition);
        Assert.Equal([11, 12], tokens);
        Assert.Equal(indices, values);
        Assert.Equal([0, 1, 1, 0, 1, 1], repetition);
    }

    [Fact]
    public async Task TheTraceReaderReadsParquetNetFiles()
    {
        // Another writer's choices: snappy, dictionary pages, optional list elements, float32 scores.
        using var dir = new TempFolder();
        var path = dir.File("p.parquet");
        var schema = new ParquetSchema(new ListField("scores", new DataField<float?>("element")), new ListField("indices", new DataField<short?>("element")));
        var random = new Random(9);
        var indices = Enumerable.Range(0, 3000).Select(_ => (short?)random.Next(8)).ToArray();
        var scores = indices.Select(i => (float?)(i / 8f)).ToArray();
        var repetition = Enumerable.Range(0, 3000).Select(i => i % 2 == 0 ? 0 : 1).ToArray();
        await using (var stream = File.Create(path))
        await using (var writer = await ParquetWriter.CreateAsync(schema, stream))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync<float>(schema.DataFields[0], scores, repetition);
            await group.WriteAsync<short>(schema.DataFields[1], indices, repetition);
        }
        using var reader = TraceParquetReader.Open(path);
        Assert.Equal(1500, reader.Rows);
        var read = reader.Read(0, reader.Column("indices")!);
        Assert.Equal(indices.Select(i => (int)i!.Value), read.IntValues.ToArray());
        Assert.Equal(repetition, read.RepetitionLevels.ToArray());
        Assert.Equal(scores.Select(s => s!.Value), reader.Read(0, reader.Column("scores")!).FloatValues.ToArray());
    }

    [Fact]
    public void AFileThatIsNotParquetIsRefusedWithAReason()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("x.parquet"), "this is not parquet at all");
        var e = Assert.Throws<InvalidDataException>(() => TraceParquetReader.Open(dir.File("x.parquet")));
        Assert.Contains("not a Parquet file", e.Message);
    }

    [Fact]
    public void SnappyDecodesLiteralsAndOverlappingCopies()
    {
        // "abcabcabcabcX": literal "abc", copy (offset 3, length 9, overlapping), literal "X".
        byte[] block = [13, 2 << 2, (byte)'a', (byte)'b', (byte)'c', (byte)(((9 - 4) << 2) | 1), 3, 0, (byte)'X'];
        Assert.Equal("abcabcabcabcX", System.Text.Encoding.ASCII.GetString(SnappyDecoder.Decode(block)));
    }
}
