using Flame.Tests.Data;
using Flame.Tracing.Parquet;
using ParquetSharp;
using ParquetSharp.Schema;

namespace Flame.Tests.Tracing;

public class TraceParquetTests
{
    [Fact]
    public void Float16AndInt16ListsRoundTripAcrossRowGroupsAndPages()
    {
        using var dir = new TempFolder();
        var path = dir.File("layer_02.parquet");
        // 71,234 rows x 6 int32 indices is 1.7 MB: more than one of Arrow's 1 MB data pages.
        const int k = 6, rows = 71234;
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
            Assert.Equal(Enumerable.Range(0, column.Entries).Select(i => (short)(i % k == 0 ? 0 : 1)), column.RepetitionLevels.ToArray());
            readIndices.AddRange(column.IntValues.ToArray());
            readScores.AddRange(reader.Read(g, reader.Column("scores")!).FloatValues.ToArray());
            readTokens.AddRange(reader.Read(g, reader.Column("token_id")!).IntValues.ToArray());
        }
        Assert.Equal(indices.Select(i => (int)i), readIndices);
        Assert.Equal(scores.Select(s => (float)s), readScores);
        Assert.Equal(tokens, readTokens);
    }

    [Fact]
    public void AnUnfinishedWriterLeavesNoFile()
    {
        using var dir = new TempFolder();
        var path = dir.File("layer_02.parquet");
        using (var writer = new TraceParquetWriter(path, [new("token_id", TraceColumnKind.Int32)]))
            writer.WriteRowGroup([new TraceColumnData.Int32Values([1, 2, 3])]);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("Snappy", false, 1)]
    [InlineData("Zstd", true, 1)]
    [InlineData("Gzip", true, 2)]
    [InlineData("Uncompressed", false, 2)]
    public void TheTraceReaderReadsParquetSharpsOwnWriter(string codec, bool dictionary, int pageVersion)
    {
        // Another writer's choices: ParquetSharp's logical (per-row) writer, several row groups, small pages,
        // required list elements (Flame writes optional ones), and the codec, dictionary and page version given.
        using var dir = new TempFolder();
        var path = dir.File("p.parquet");
        const int k = 6, rows = 5000, groupRows = 1500;
        var random = new Random(9);
        var indices = Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, k).Select(_ => (short)random.Next(64)).ToArray()).ToArray();
        var scores = indices.Select(r => r.Select(i => (Half)(i / 64f)).ToArray()).ToArray();
        var tokens = Enumerable.Range(0, rows).Select(i => i * 7 % 1000).ToArray();
        using (var schema = new GroupNode("schema", Repetition.Required, [
                   new PrimitiveNode("token_id", Repetition.Required, LogicalType.None(), PhysicalType.Int32),
                   new GroupNode("scores", Repetition.Optional, [new GroupNode("list", Repetition.Repeated,
                       [new PrimitiveNode("element", Repetition.Required, LogicalType.Float16(), PhysicalType.FixedLenByteArray, 2)])], LogicalType.List()),
                   new GroupNode("indices", Repetition.Optional, [new GroupNode("list", Repetition.Repeated,
                       [new PrimitiveNode("element", Repetition.Required, LogicalType.Int(16, isSigned: true), PhysicalType.Int32)])], LogicalType.List()),
               ]))
        using (var properties = Properties(codec, dictionary, pageVersion))
        using (var file = new ParquetFileWriter(path, schema, properties))
        {
            for (int first = 0; first < rows; first += groupRows)
            {
                int last = Math.Min(rows, first + groupRows);
                using var group = file.AppendRowGroup();
                using (var w = group.NextColumn().LogicalWriter<int>()) w.WriteBatch(tokens[first..last]);
                using (var w = group.NextColumn().LogicalWriter<Half[]>()) w.WriteBatch(scores[first..last]);
                using (var w = group.NextColumn().LogicalWriter<short[]>()) w.WriteBatch(indices[first..last]);
            }
            file.Close();
        }

        using var reader = TraceParquetReader.Open(path);
        Assert.Equal(rows, reader.Rows);
        Assert.Equal(4, reader.RowGroupCount);
        Assert.Equal("token_id: int32, scores: list<float16>, indices: list<int16>", reader.DescribeColumns());
        var readIndices = new List<int>();
        var readScores = new List<float>();
        var readTokens = new List<int>();
        ParquetColumnValues? reuse = null;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            reuse = reader.Read(g, reader.Column("indices")!, reuse);
            Assert.Equal(reader.RowGroupRows(g) * k, reuse.Entries);
            Assert.Equal(Enumerable.Range(0, reuse.Entries).Select(i => (short)(i % k == 0 ? 0 : 1)), reuse.RepetitionLevels.ToArray());
            readIndices.AddRange(reuse.IntValues.ToArray());
            readScores.AddRange(reader.Read(g, reader.Column("scores")!).FloatValues.ToArray());
            readTokens.AddRange(reader.Read(g, reader.Column("token_id")!).IntValues.ToArray());
        }
        Assert.Equal(indices.SelectMany(r => r.Select(i => (int)i)), readIndices);
        Assert.Equal(scores.SelectMany(r => r.Select(s => (float)s)), readScores);
        Assert.Equal(tokens, readTokens);
    }

    static WriterProperties Properties(string codec, bool dictionary, int pageVersion)
    {
        var builder = new WriterPropertiesBuilder()
            .Compression(Enum.Parse<Compression>(codec))
            .DataPagesize(4096)
            .DataPageVersion(pageVersion == 2 ? ParquetDataPageVersion.V2 : ParquetDataPageVersion.V1);
        return (dictionary ? builder.EnableDictionary() : builder.DisableDictionary()).Build();
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
    public void ATruncatedFileIsRefusedWithAReason()
    {
        using var dir = new TempFolder();
        var path = dir.File("layer_02.parquet");
        TraceFixtures.WriteLayer(path, Enumerable.Range(0, 100).Select(i => new[] { i % 8, (i + 1) % 8 }).ToArray());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => TraceParquetReader.Open(path));
        Assert.Contains("not a Parquet file", e.Message);
    }

    [Fact]
    public void CorruptPagesAreRefusedWithAReasonWhenRead()
    {
        using var dir = new TempFolder();
        var path = dir.File("layer_02.parquet");
        var random = new Random(5);
        TraceFixtures.WriteLayer(path, Enumerable.Range(0, 2000).Select(_ => new[] { random.Next(64), random.Next(64) }).ToArray());
        var bytes = File.ReadAllBytes(path);
        // Overwrite the middle of the column data (after the magic, well before the footer).
        for (int i = 8; i < bytes.Length / 3; i++) bytes[i] = (byte)random.Next(256);
        File.WriteAllBytes(path, bytes);
        using var reader = TraceParquetReader.Open(path);
        var e = Assert.Throws<InvalidDataException>(() =>
        {
            reader.Read(0, reader.Column("scores")!);
            reader.Read(0, reader.Column("indices")!);
        });
        Assert.Contains("row group 0", e.Message);
    }
}
