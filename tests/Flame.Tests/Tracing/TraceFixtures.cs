using Flame.Tracing;
using Flame.Tracing.Parquet;

namespace Flame.Tests.Tracing;

/// <summary>Builds small trace folders in the published layout, file by file, for tests.</summary>
public static class TraceFixtures
{
    public static void WriteSamples(string path, int[] tokens, int rowGroupRows = int.MaxValue)
    {
        using var writer = new TraceParquetWriter(path, [new(TraceLayout.TokenColumn, TraceColumnKind.Int32)]);
        for (int first = 0; first < tokens.Length; first += rowGroupRows)
            writer.WriteRowGroup([new TraceColumnData.Int32Values(tokens[first..Math.Min(tokens.Length, first + rowGroupRows)])]);
        writer.Complete();
    }

    /// <summary>A layer file from rows of k expert ids; scores are made up but sorted descending.</summary>
    public static void WriteLayer(string path, int[][] rows, int rowGroupRows = int.MaxValue)
    {
        int k = rows[0].Length;
        using var writer = new TraceParquetWriter(path,
            [new(TraceLayout.ScoresColumn, TraceColumnKind.Float16List), new(TraceLayout.IndicesColumn, TraceColumnKind.Int16List)]);
        for (int first = 0; first < rows.Length; first += rowGroupRows)
        {
            var group = rows[first..Math.Min(rows.Length, first + rowGroupRows)];
            var indices = group.SelectMany(r => r.Select(e => (short)e)).ToArray();
            var scores = group.SelectMany(r => r.Select((_, i) => (Half)(0.5f / (i + 1)))).ToArray();
            writer.WriteRowGroup([new TraceColumnData.Float16Lists(scores, k), new TraceColumnData.Int16Lists(indices, k)]);
        }
        writer.Complete();
    }

    public static string LayerPath(string traces, long step, int layer, int digits = 7) =>
        Path.Combine(traces, TraceLayout.ActivesFolder, "iter_" + step.ToString().PadLeft(digits, '0'), TraceLayout.LayerFile(layer));
}
