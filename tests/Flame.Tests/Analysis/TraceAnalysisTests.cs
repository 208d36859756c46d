using Flame.Analysis;
using Flame.Tests.Data;
using Flame.Tests.Tracing;
using Flame.Tracing;

namespace Flame.Tests.Analysis;

/// <summary>The streaming analyses over trace folders in the published layout, written by the test itself.</summary>
public class TraceAnalysisTests
{
    const int Experts = 8, K = 2;

    /// <summary>
    /// The published arrangement: dataset/samples/NNN.parquet (token_id only, split over two files) beside
    /// dataset/model/actives/iter_NNNN/layer_NN.parquet (four-digit iterations), no manifest.
    /// </summary>
    static (string Traces, int[] Tokens, Dictionary<(long, int), int[][]> Routing) PublishedFolder(TempFolder dir)
    {
        var random = new Random(11);
        int[] tokens = Enumerable.Range(0, 60).Select(i => i % 6 == 0 ? 3 : random.Next(10)).ToArray();
        TraceFixtures.WriteSamples(Path.Combine(dir.Path, "samples", "000.parquet"), tokens[..25], rowGroupRows: 10);
        TraceFixtures.WriteSamples(Path.Combine(dir.Path, "samples", "001.parquet"), tokens[25..]);
        var traces = Path.Combine(dir.Path, "flame-moe-test");
        var routing = new Dictionary<(long, int), int[][]>();
        foreach (var step in new long[] { 10, 20, 30 })
            foreach (var layer in new[] { 2, 3 })
            {
                var rows = tokens.Select(t =>
                {
                    int a = random.NextDouble() < step / 40.0 ? (t + layer) % Experts : random.Next(Experts);
                    int b = (a + 1 + random.Next(Experts - 1)) % Experts;
                    return new[] { a, b };
                }).ToArray();
                routing[(step, layer)] = rows;
                TraceFixtures.WriteLayer(TraceFixtures.LayerPath(traces, step, layer, digits: 4), rows, rowGroupRows: 16);
            }
        return (traces, tokens, routing);
    }

    [Fact]
    public void APublishedLayoutFolderIsAnalysedAndMatchesTheFormulas()
    {
        using var dir = new TempFolder();
        var (traces, tokens, routing) = PublishedFolder(dir);
        var folder = TraceFolder.Open(traces);
        Assert.Null(folder.Manifest);
        Assert.Equal([10L, 20L, 30L], folder.Checkpoints);
        Assert.Equal([2, 3], folder.Layers);
        Assert.Equal(60, folder.Rows);
        var result = TraceAnalysis.Analyze(folder, new AnalysisOptions { Experts = Experts });
        Assert.Empty(result.Problems);
        Assert.Equal(K, result.TopK);
        Assert.Equal([1, 2], result.SaturationKs);
        Assert.Equal(60L * 2 * 3, result.TokenLayers);

        foreach (var layer in result.Layers)
        {
            var final = routing[(30, layer.Layer)];
            foreach (var step in new long[] { 10, 20, 30 })
            {
                var rows = routing[(step, layer.Layer)];
                // Load balance: counts per expert straight from the rows.
                var counts = Enumerable.Range(0, Experts).Select(e => (long)rows.Count(r => r.Contains(e))).ToArray();
                Assert.Equal(counts, layer.LoadBalance[step].Counts);
                // Co-activation: M[i][j] counted pair by pair.
                var m = layer.CoActivationCounts[step];
                for (int i = 0; i < Experts; i++)
                    for (int j = 0; j < Experts; j++)
                        Assert.Equal(rows.Count(r => r.Contains(i) && r.Contains(j)), m[i, j]);
                // Saturation at k = 1 and 2 against the final checkpoint.
                for (int k = 1; k <= 2; k++)
                {
                    double expected = rows.Zip(final, (a, f) => a.Take(k).Intersect(f.Take(k)).Count() / (double)k).Average();
                    Assert.Equal(expected, layer.Saturation[step][k], 12);
                }
                // Specialization: token 3 occurs 10 times; S(e, 3) for each expert's best token.
                foreach (var (e, best) in layer.TopTokens[step].Select((t, e) => (e, t)).Where(x => x.t.Count > 0))
                {
                    var t = best[0];
                    var occurrences = tokens.Count(v => v == t.Token);
                    var hits = tokens.Select((v, i) => (v, i)).Count(x => x.v == t.Token && rows[x.i].Contains(e));
                    Assert.True(occurrences >= 5);
                    Assert.Equal((double)hits / occurrences, t.Score, 12);
                }
            }
            Assert.Equal(1.0, layer.Saturation[30][1]);
            Assert.Equal(2 * Experts, layer.Evolution.Count);
        }
    }

    [Fact]
    public void ReadingWritesTablesPlotsAndASummary()
    {
        using var dir = new TempFolder();
        var (traces, _, _) = PublishedFolder(dir);
        var result = TraceAnalysis.Run(traces, new AnalysisOptions { Experts = Experts });
        Assert.Equal(Path.Combine(traces, "analysis"), result.Output);
        foreach (var file in new[] { "analysis.json", "load_balance.csv", "load_balance_summary.csv", "coactivation.json", "coactivation_top16.csv",
                     "saturation.csv", "specialization_top.csv", "specialization_evolution.csv", "plots/index.json", "plots/saturation.png",
                     "plots/saturation.svg", "plots/coactivation_layer_02.png", "plots/load_balance.svg", "plots/specialization.png" })
            Assert.True(File.Exists(Path.Combine(result.Output, file)), file);
        var saturation = CsvRows.Read(Path.Combine(result.Output, "saturation.csv"));
        Assert.Equal(2 * 3 * 2, saturation.Count);
        Assert.All(Flame.Plots.PlotIndex.Read(Path.Combine(result.Output, "plots")), p => Assert.False(string.IsNullOrWhiteSpace(p.Caption)));
    }

    [Fact]
    public void RowCountsThatDisagreeLeaveOutThatFileByName()
    {
        using var dir = new TempFolder();
        var (traces, _, routing) = PublishedFolder(dir);
        var bad = TraceFixtures.LayerPath(traces, 20, 3, 4);
        TraceFixtures.WriteLayer(bad, routing[(20, 3)][..59]);
        var result = TraceAnalysis.Analyze(TraceFolder.Open(traces), new AnalysisOptions { Experts = Experts });
        var problem = Assert.Single(result.Problems);
        Assert.Equal(bad, problem.File);
        Assert.Contains("59 rows", problem.Message);
        Assert.Equal([10L, 20L, 30L], result.Layers.Single(l => l.Layer == 2).Saturation.Keys);
        Assert.Equal([10L, 30L], result.Layers.Single(l => l.Layer == 3).Saturation.Keys);
    }

    [Fact]
    public void AnExpertIndexOutOfRangeLeavesOutThatFileAndTheRestCompletes()
    {
        using var dir = new TempFolder();
        var (traces, _, routing) = PublishedFolder(dir);
        var rows = routing[(10, 2)].Select(r => r.ToArray()).ToArray();
        rows[40][1] = 70;
        var bad = TraceFixtures.LayerPath(traces, 10, 2, 4);
        TraceFixtures.WriteLayer(bad, rows, rowGroupRows: 16);
        var result = TraceAnalysis.Analyze(TraceFolder.Open(traces), new AnalysisOptions { Experts = Experts });
        var problem = Assert.Single(result.Problems);
        Assert.Equal(bad, problem.File);
        Assert.Contains("row 40: expert index 70 is out of range 0..7", problem.Message);
        var layer2 = result.Layers.Single(l => l.Layer == 2);
        Assert.Equal([20L, 30L], layer2.LoadBalance.Keys);
        Assert.Equal([20L, 30L], layer2.TopTokens.Keys);
        Assert.Equal(3, result.Layers.Single(l => l.Layer == 3).LoadBalance.Count);
    }

    [Fact]
    public void AMissingCheckpointIsReportedAndTheOthersAreAnalysed()
    {
        using var dir = new TempFolder();
        var (traces, _, _) = PublishedFolder(dir);
        new TraceManifest { Experts = Experts, TopK = K, Layers = [2, 3], Checkpoints = [10, 20, 30, 40] }.Write(traces);
        Directory.Delete(Path.Combine(traces, "actives", "iter_0020"), recursive: true);
        var result = TraceAnalysis.Analyze(TraceFolder.Open(traces), new AnalysisOptions());
        Assert.Equal(["iter_0020", "iter_0040"], result.Problems.Select(p => Path.GetFileName(p.File)).Order());
        Assert.All(result.Problems, p => Assert.Contains("missing", p.Message));
        Assert.Equal([10L, 30L], result.Checkpoints);
        Assert.All(result.Layers, l => Assert.Equal([10L, 30L], l.Saturation.Keys));
    }

    [Fact]
    public void AMissingLayerFileAndAWrongSchemaAreReportedByName()
    {
        using var dir = new TempFolder();
        var (traces, _, _) = PublishedFolder(dir);
        File.Delete(TraceFixtures.LayerPath(traces, 10, 3, 4));
        var wrong = TraceFixtures.LayerPath(traces, 20, 2, 4);
        using (var writer = new Flame.Tracing.Parquet.TraceParquetWriter(wrong, [new("experts", Flame.Tracing.Parquet.TraceColumnKind.Int32)]))
        {
            writer.WriteRowGroup([new Flame.Tracing.Parquet.TraceColumnData.Int32Values(new int[60])]);
            writer.Complete();
        }
        var result = TraceAnalysis.Analyze(TraceFolder.Open(traces), new AnalysisOptions { Experts = Experts });
        Assert.Equal(2, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.File == TraceFixtures.LayerPath(traces, 10, 3, 4) && p.Message.Contains("missing"));
        Assert.Contains(result.Problems, p => p.File == wrong && p.Message.Contains("wrong schema") && p.Message.Contains("experts: int32"));
        Assert.Equal([10L, 30L], result.Layers.Single(l => l.Layer == 2).CoActivationCounts.Keys);
        Assert.Equal([20L, 30L], result.Layers.Single(l => l.Layer == 3).CoActivationCounts.Keys);
    }

    [Fact]
    public void RandomBytesATruncatedFileAndCorruptPagesAreOneNamedProblemEach()
    {
        using var dir = new TempFolder();
        var (traces, _, _) = PublishedFolder(dir);
        var random = new Random(4);
        var noise = TraceFixtures.LayerPath(traces, 10, 2, 4);
        File.WriteAllBytes(noise, Enumerable.Range(0, 4000).Select(_ => (byte)random.Next(256)).ToArray());
        var truncated = TraceFixtures.LayerPath(traces, 10, 3, 4);
        var bytes = File.ReadAllBytes(truncated);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 20)]);
        // Corrupt pages behind an intact footer: the file opens, its data does not decode.
        var corrupt = TraceFixtures.LayerPath(traces, 20, 3, 4);
        bytes = File.ReadAllBytes(corrupt);
        int footer = BitConverter.ToInt32(bytes, bytes.Length - 8);
        for (int i = 4; i < bytes.Length - 8 - footer; i++) bytes[i] = (byte)random.Next(256);
        File.WriteAllBytes(corrupt, bytes);

        var result = TraceAnalysis.Analyze(TraceFolder.Open(traces), new AnalysisOptions { Experts = Experts });
        Assert.Equal(3, result.Problems.Count);
        Assert.Contains(result.Problems, p => p.File == noise && p.Message.Contains("not a Parquet file"));
        Assert.Contains(result.Problems, p => p.File == truncated && p.Message.Contains("not a Parquet file"));
        Assert.Contains(result.Problems, p => p.File == corrupt && p.Message.Contains("corrupt data"));
        Assert.Equal([20L, 30L], result.Layers.Single(l => l.Layer == 2).LoadBalance.Keys);
        Assert.Equal([30L], result.Layers.Single(l => l.Layer == 3).LoadBalance.Keys);
    }

    [Fact]
    public void ABrokenFinalCheckpointCostsOnlyThatLayersSaturation()
    {
        using var dir = new TempFolder();
        var (traces, _, _) = PublishedFolder(dir);
        var final = TraceFixtures.LayerPath(traces, 30, 2, 4);
        File.WriteAllText(final, "garbage");
        var result = TraceAnalysis.Analyze(TraceFolder.Open(traces), new AnalysisOptions { Experts = Experts });
        Assert.Contains(result.Problems, p => p.File == final && p.Message.Contains("not a Parquet file"));
        Assert.Empty(result.Layers.Single(l => l.Layer == 2).Saturation);
        Assert.Equal(2, result.Layers.Single(l => l.Layer == 2).LoadBalance.Count);
        Assert.Equal(3, result.Layers.Single(l => l.Layer == 3).Saturation.Count);
    }
}
