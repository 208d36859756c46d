using Flame.Interop.Megatron;
using Flame.Tests.Data;
using Flame.Tracing;

namespace Flame.Tests.Interop;

/// <summary>
/// FLAME-MoE's raw capture (scripts/make-megatron-traces.py: samples batch-major, routing rows seq-major, micro-batch 2)
/// imported into the published layout: every routing row must land on its own token, which the fixture makes checkable
/// because expert j of token t is (t + 3j + step + layer) mod 8.
/// </summary>
public class MegatronTraceImportTests
{
    static string Fixture => Path.Combine(AppContext.BaseDirectory, "Interop", "Fixtures", "megatron-traces");

    [Fact]
    public void RoutingRowsAreRealignedWithTheirTokens()
    {
        using var dir = new TempFolder();
        var result = MegatronTraceImport.Run(Fixture, dir.File("traces"), sequence: 4, experts: 8);
        // 2 passes x 2 ranks x [2, 4] tokens; checkpoints 10 and 20; layers 2 and 3; top-3.
        Assert.Equal((32L, 2, 2, 3, 2), (result.Tokens, result.Checkpoints, result.Layers, result.TopK, result.MicroBatch));

        var folder = TraceFolder.Open(dir.File("traces"));
        Assert.Empty(folder.Problems);
        Assert.Equal([10L, 20L], folder.Checkpoints);
        Assert.Equal([2, 3], folder.Layers);
        var tokens = new List<int>();
        using (var cursor = new TokenCursor(folder.SampleFiles))
            while (cursor.Fill()) { tokens.AddRange(cursor.Current.ToArray()); cursor.Advance(cursor.Available); }
        Assert.Equal(32, tokens.Count);

        foreach (var step in folder.Checkpoints)
            foreach (var layer in folder.Layers)
            {
                using var routing = RoutingCursor.Open(folder.File(step, layer)!, 8, 3);
                int row = 0;
                while (routing.Fill())
                {
                    var experts = routing.Current;
                    for (int r = 0; r < routing.Available; r++, row++)
                        for (int j = 0; j < 3; j++)
                            Assert.Equal((tokens[row] + 3 * j + (int)step + layer) % 8, experts[r * 3 + j]);
                    routing.Advance(routing.Available);
                }
                Assert.Equal(32, row);
            }
    }

    [Fact]
    public void AFolderThatIsNotACaptureIsOneLine()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("empty"));
        var error = Assert.Throws<UserError>(() => MegatronTraceImport.Run(dir.File("empty"), dir.File("traces"), sequence: 4, experts: 8));
        Assert.Contains("expected samples/ and actives/", error.Message);
        Assert.False(Directory.Exists(dir.File("traces")) && Directory.EnumerateFileSystemEntries(dir.File("traces")).Any());
    }
}
