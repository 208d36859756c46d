using System.Collections;
using Flame.Tests.Data;
using Flame.Tracing;
using Flame.Tracing.Parquet;

namespace Flame.Tests.Tracing;

/// <summary>Trace files against an independent Parquet implementation: DuckDB reads Flame's, Flame reads DuckDB's.</summary>
public class TraceParquetDuckDbTests
{
    [Fact]
    public void DuckDbListsThePublishedSchemaAndReadsTheValues()
    {
        using var dir = new TempFolder();
        var layer = dir.File("actives/iter_0000010/layer_02.parquet");
        var samples = dir.File("samples/000.parquet");
        int[][] routing = [[5, 3, 1, 0, 63, 7], [2, 4, 6, 8, 10, 12], [63, 62, 61, 60, 59, 58]];
        TraceFixtures.WriteLayer(layer, routing, rowGroupRows: 2);
        TraceFixtures.WriteSamples(samples, [11, 12, 50276]);

        // parquet_schema: name, type, type_length, repetition, children, converted type, logical type (spec §5's layout).
        var schema = DuckDb.Query($"SELECT name, type, type_length, repetition_type, num_children, converted_type, logical_type FROM parquet_schema({DuckDb.Literal(layer)})")
            .Skip(1).Select(r => string.Join("|", r)).ToArray();
        Assert.Equal([
            "scores|||OPTIONAL|1|LIST|ListType()",
            "list|||REPEATED|1||",
            "element|FIXED_LEN_BYTE_ARRAY|2|OPTIONAL|||Float16Type()",
            "indices|||OPTIONAL|1|LIST|ListType()",
            "list|||REPEATED|1||",
            "element|INT32||OPTIONAL||INT_16|IntType(bitWidth=16, isSigned=1)",
        ], schema.Select(s => s.Replace("bitWidth=\u0010", "bitWidth=16")).ToArray()); // DuckDB prints the int8 width as a character
        Assert.Equal(["scores FLOAT[]", "indices SMALLINT[]"],
            DuckDb.Query($"DESCRIBE SELECT * FROM read_parquet({DuckDb.Literal(layer)})").Select(r => $"{r[0]} {r[1]}"));
        Assert.Equal(["token_id INTEGER"], DuckDb.Query($"DESCRIBE SELECT * FROM read_parquet({DuckDb.Literal(samples)})").Select(r => $"{r[0]} {r[1]}"));

        var rows = DuckDb.Query($"SELECT scores, indices FROM read_parquet({DuckDb.Literal(layer)})");
        Assert.Equal(routing, rows.Select(r => ((IList)r[1]!).Cast<short>().Select(i => (int)i).ToArray()).ToArray());
        // TraceFixtures' scores are 0.5 / (rank + 1) rounded to float16.
        float[] expected = Enumerable.Range(0, 6).Select(i => (float)(Half)(0.5f / (i + 1))).ToArray();
        Assert.All(rows, r => Assert.Equal(expected, ((IList)r[0]!).Cast<float>().ToArray()));
        Assert.Equal([11, 12, 50276], DuckDb.Query($"SELECT token_id FROM read_parquet({DuckDb.Literal(samples)})").Select(r => (int)r[0]!));
        Assert.Equal(2L, DuckDb.Query($"SELECT count(DISTINCT row_group_id) FROM parquet_metadata({DuckDb.Literal(layer)})")[0][0]);
    }

    [Theory]
    [InlineData("snappy")]
    [InlineData("zstd")]
    [InlineData("uncompressed")]
    public void TheTraceReaderReadsDuckDbFiles(string codec)
    {
        // DuckDB's writer: dictionary pages for the 64 expert ids, float32 scores, row groups of 2,048 rows.
        using var dir = new TempFolder();
        var path = dir.File("layer_02.parquet");
        const int rows = 10000, k = 6;
        DuckDb.Query($"""
            COPY (SELECT list_transform(range({k}), j -> (0.5 / (j + 1))::FLOAT) AS scores,
                         list_transform(range({k}), j -> ((i * 7 + j * 11) % 64)::SMALLINT) AS indices
                  FROM range({rows}) t(i) ORDER BY i)
            TO {DuckDb.Literal(path)} (FORMAT parquet, COMPRESSION {codec}, ROW_GROUP_SIZE 2048)
            """);
        var encodings = DuckDb.Query($"SELECT DISTINCT encodings FROM parquet_metadata({DuckDb.Literal(path)}) WHERE path_in_schema LIKE 'indices%'");
        Assert.Contains(encodings, e => ((string)e[0]!).Contains("DICTIONARY"));

        using var reader = TraceParquetReader.Open(path);
        Assert.Equal(rows, reader.Rows);
        Assert.True(reader.RowGroupCount > 1, $"{reader.RowGroupCount} row groups");
        Assert.Equal("scores: list<float>, indices: list<int16>", reader.DescribeColumns());
        var indices = new List<int>();
        var scores = new List<float>();
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            indices.AddRange(reader.Read(g, reader.Column("indices")!).IntValues.ToArray());
            scores.AddRange(reader.Read(g, reader.Column("scores")!).FloatValues.ToArray());
        }
        Assert.Equal(Enumerable.Range(0, rows).SelectMany(i => Enumerable.Range(0, k).Select(j => (i * 7 + j * 11) % 64)), indices);
        Assert.Equal(Enumerable.Range(0, rows).SelectMany(_ => Enumerable.Range(0, k).Select(j => (float)(0.5 / (j + 1)))), scores);

        // And through the routing cursor the analyses use.
        using var cursor = RoutingCursor.Open(path, experts: 64, topK: 0);
        long seen = 0;
        while (cursor.Fill()) { seen += cursor.Available; cursor.Advance(cursor.Available); }
        Assert.Equal(k, cursor.TopK);
        Assert.Equal(rows, seen);
    }
}
