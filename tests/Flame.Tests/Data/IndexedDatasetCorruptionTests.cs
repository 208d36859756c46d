using Flame.Data.Indexed;

namespace Flame.Tests.Data;

/// <summary>Inconsistent .idx/.bin pairs fail on open with a message naming the file, never a crash or garbage.</summary>
public class IndexedDatasetCorruptionTests
{
    static (string Prefix, TempFolder Dir) Write()
    {
        var dir = new TempFolder();
        var prefix = dir.File("ds");
        using var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16);
        writer.AddDocument([1, 2, 3, 0]);
        writer.AddDocument([4, 0]);
        writer.Complete();
        return (prefix, dir);
    }

    static UserError OpenFails(string prefix) => Assert.Throws<UserError>(() => IndexedDatasetReader.Open(prefix).Dispose());

    static void Patch(string path, int offset, params byte[] bytes)
    {
        var data = File.ReadAllBytes(path);
        bytes.CopyTo(data, offset);
        File.WriteAllBytes(path, data);
    }

    [Fact]
    public void BadMagic()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        Patch(prefix + ".idx", 0, (byte)'X');
        Assert.Contains("bad magic", OpenFails(prefix).Message);
    }

    [Fact]
    public void UnknownVersionAndDType()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        Patch(prefix + ".idx", 9, 2);
        Assert.Contains("version 2", OpenFails(prefix).Message);
        Patch(prefix + ".idx", 9, 1);
        Patch(prefix + ".idx", 17, 9);
        Assert.Contains("unknown dtype code 9", OpenFails(prefix).Message);
        Patch(prefix + ".idx", 17, 7);
        Assert.Contains("cannot hold token ids", OpenFails(prefix).Message);
    }

    [Fact]
    public void TruncatedBin()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        using (var f = new FileStream(prefix + ".bin", FileMode.Open)) f.SetLength(10);
        var e = OpenFails(prefix);
        Assert.Contains(prefix + ".bin", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void BinWithExtraBytes()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        File.AppendAllText(prefix + ".bin", "xx");
        Assert.Contains("mismatched", OpenFails(prefix).Message);
    }

    [Fact]
    public void HeaderCountsDisagreeWithFileSize()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        Patch(prefix + ".idx", 18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F); // absurd sequence count
        Assert.Contains(prefix + ".idx", OpenFails(prefix).Message);
        Patch(prefix + ".idx", 18, 3, 0, 0, 0, 0, 0, 0, 0);
        Assert.Contains("implies", OpenFails(prefix).Message);
    }

    [Fact]
    public void TruncatedIdxAndBadPointers()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        var idx = File.ReadAllBytes(prefix + ".idx");
        File.WriteAllBytes(prefix + ".idx", idx[..20]);
        Assert.Contains("shorter than", OpenFails(prefix).Message);
        idx[34 + 8 + 8] = 2; // second pointer 2 instead of 8
        File.WriteAllBytes(prefix + ".idx", idx);
        Assert.Contains("sequence 1 starts at byte 2", OpenFails(prefix).Message);
    }

    [Fact]
    public void MissingFiles()
    {
        var (prefix, dir) = Write();
        using var _ = dir;
        File.Delete(prefix + ".bin");
        Assert.Contains("no such data file", OpenFails(prefix).Message);
        Assert.Contains("no such index file", OpenFails(dir.File("other")).Message);
    }
}
