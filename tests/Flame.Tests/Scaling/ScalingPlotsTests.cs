using System.Xml.Linq;
using Flame.Scaling;
using Flame.Scaling.Plots;
using Flame.Tests.Data;

namespace Flame.Tests.Scaling;

public class ScalingPlotsTests
{
    static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 20_000, $"{path}: {bytes.Length} bytes"); // a blank 1000x700 PNG is a few kB
        Assert.Equal(PngSignature, bytes[..8]);
        // IHDR: width and height as big-endian int32 at bytes 16 and 20.
        Assert.Equal(PlotStyle.Width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(PlotStyle.Height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }

    static void AssertSvg(string path)
    {
        Assert.True(new FileInfo(path).Length > 5_000);
        var root = XDocument.Load(path).Root!;
        Assert.Equal("svg", root.Name.LocalName);
        Assert.Equal("http://www.w3.org/2000/svg", root.Name.NamespaceName);
    }

    [Fact]
    public void WritesThreeFiguresAsPngAndSvg()
    {
        using var dir = new TempFolder();
        var runs = SyntheticRuns.From(ParametricLaw.FlameMoe);
        var files = ScalingPlots.Write(dir.Path, runs, IsoFlopFit.Fit(runs), ParametricLaw.FlameMoe);
        string[] names = ["isoflop-curves", "loss-contours", "optimal-params"];
        Assert.Equal(names.SelectMany(n => new[] { n + ".png", n + ".svg" }).Order(), dir.Entries()); // no temporary files left
        Assert.Equal(6, files.Count);
        foreach (var n in names)
        {
            AssertPng(dir.File(n + ".png"));
            AssertSvg(dir.File(n + ".svg"));
        }
    }

    [Fact]
    public void WithoutApproach3OnlyTheApproach2FiguresAreWritten()
    {
        using var dir = new TempFolder();
        var runs = SyntheticRuns.From(ParametricLaw.FlameMoe);
        ScalingPlots.Write(dir.Path, runs, IsoFlopFit.Fit(runs), approach3: null);
        Assert.Equal(["isoflop-curves.png", "isoflop-curves.svg", "optimal-params.png", "optimal-params.svg"], dir.Entries());
    }

    [Theory]
    [InlineData(3e7, "30M")]
    [InlineData(1.5e9, "1.5B")]
    [InlineData(2e12, "2T")]
    public void CountLabels(double value, string expected) => Assert.Equal(expected, LogTicks.Count(value));

    [Theory]
    [InlineData(1e18, "1e18")]
    [InlineData(3e19, "3e19")]
    [InlineData(1.5e21, "1.5e21")]
    public void FlopsLabels(double value, string expected) => Assert.Equal(expected, LogTicks.Flops(value));

    [Fact]
    public void LogTicksSitAtDecadesAndTheirMultiples()
    {
        // 10^7.5 .. 10^9.2 (1.7 decades): labels at 1 and 3 x 10^k, minor ticks at the other integers.
        var ticks = LogTicks.Positions(7.5, 9.2, LogTicks.Count);
        Assert.Equal(["100M", "300M", "1B"], ticks.Where(t => t.Label is not null).Select(t => t.Label));
        Assert.Equal(Math.Log10(3e8), ticks.Single(t => t.Label == "300M").Position, 12);
        Assert.Contains(ticks, t => t.Label is null && Math.Abs(t.Position - Math.Log10(5e7)) < 1e-12);
        Assert.Equal(16, ticks.Count); // 4e7..9e7, 1e8..9e8, 1e9: every integer multiple of a decade inside the range
        Assert.Equal("84.2", PlotStyle.Number(84.2035));
        Assert.Equal("3.32e6", PlotStyle.Number(3317747.7));
        Assert.Equal("0.243", PlotStyle.Number(0.2430201));
    }
}
