using Flame.Tests.Data;
using Flame.Tracing;
using ParquetSharp;
using ParquetSharp.Schema;

namespace Flame.Tests.Tracing;

/// <summary>The cursor's checks on the shape of the indices lists (Flame's writer cannot write a ragged file, so ParquetSharp's does).</summary>
public class RoutingCursorTests
{
    static string WriteLists(TempFolder dir, short[][] indices)
    {
        var path = dir.File("layer_02.parquet");
        var scores = indices.Select(r => r.Select(_ => (Half)0.5f).ToArray()).ToArray();
        using (var schema = new GroupNode("schema", Repetition.Required, [
                   new GroupNode("scores", Repetition.Optional, [new GroupNode("list", Repetition.Repeated,
                       [new PrimitiveNode("element", Repetition.Required, LogicalType.Float16(), PhysicalType.FixedLenByteArray, 2)])], LogicalType.List()),
                   new GroupNode("indices", Repetition.Optional, [new GroupNode("list", Repetition.Repeated,
                       [new PrimitiveNode("element", Repetition.Required, LogicalType.Int(16, isSigned: true), PhysicalType.Int32)])], LogicalType.List()),
               ]))
        using (var properties = new WriterPropertiesBuilder().Build())
        using (var file = new ParquetFileWriter(path, schema, properties))
        {
            using var group = file.AppendRowGroup();
            using (var w = group.NextColumn().LogicalWriter<Half[]>()) w.WriteBatch(scores);
            using (var w = group.NextColumn().LogicalWriter<short[]>()) w.WriteBatch(indices);
            file.Close();
        }
        return path;
    }

    [Fact]
    public void ARaggedRowIsNamedEvenWhenTheEntryCountMatches()
    {
        using var dir = new TempFolder();
        // 5 rows, 10 entries = 5 x 2, but row 2 holds 1 id and row 3 holds 3.
        var path = WriteLists(dir, [[0, 1], [2, 3], [4], [5, 6, 7], [1, 2]]);
        using var cursor = RoutingCursor.Open(path, experts: 8, topK: 2);
        var e = Assert.Throws<TraceFileException>(() => cursor.Fill());
        Assert.Contains("row 2: its indices list does not hold exactly 2 expert ids", e.Reason);
    }

    [Fact]
    public void WholeListsReadAsRowsOfKIds()
    {
        using var dir = new TempFolder();
        var path = WriteLists(dir, [[0, 1], [2, 3], [7, 4]]);
        using var cursor = RoutingCursor.Open(path, experts: 8, topK: 2);
        Assert.True(cursor.Fill());
        Assert.Equal([0, 1, 2, 3, 7, 4], cursor.Current.ToArray());
    }
}
