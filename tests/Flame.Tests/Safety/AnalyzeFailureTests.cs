using Flame.Cli.Commands;
using Flame.Tests.Data;
using Flame.Tests.Tracing;

namespace Flame.Tests.Safety;

/// <summary>`analyze` over traces none of which can be read is a failure, not empty tables and exit 0.</summary>
public class AnalyzeFailureTests
{
    [Fact]
    public void AnalyzeExitsNonZeroWhenNothingAtAllCouldBeRead()
    {
        using var dir = new TempFolder();
        var traces = dir.File("traces");
        var random = new Random(5);
        foreach (var step in new long[] { 10, 20 })
            foreach (var layer in new[] { 1, 2 })
            {
                var path = TraceFixtures.LayerPath(traces, step, layer, digits: 4);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, Enumerable.Range(0, 3000).Select(_ => (byte)random.Next(256)).ToArray());
            }
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, err) = CliHarness.Run([AnalyzeCommands.Create()], "analyze", "load-balance", "--traces", traces, "--experts", "8", "--no-plots");
        Assert.Equal(2, code);
        Assert.Contains($"{traces}: nothing could be read", err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before)); // no empty tables written
    }
}
