using Flame.Output;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>`flame analyze bench --dir D` used to delete D whatever it held (with --dir . the working directory).</summary>
public class AnalyzeBenchFolderTests
{
    static readonly string[] Small = ["--token-layers", "4000", "--layers", "1", "--checkpoints", "2", "--experts", "4", "--top-k", "2", "--json"];

    static (int Code, string Out, string Err) Bench(string folder, params string[] extra) =>
        TinyRun.Flame(["analyze", "bench", "--dir", folder, .. Small, .. extra]);

    [Fact]
    public void AnalyzeBenchDirFlameDidNotWriteIsRefusedAndNotDeleted()
    {
        using var dir = new TempFolder();
        var folder = dir.File("work");
        Directory.CreateDirectory(Path.Combine(folder, "thesis"));
        File.WriteAllText(Path.Combine(folder, "thesis", "chapter1.tex"), "months of writing");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = Bench(folder);
        Assert.Equal(2, code);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(folder, error);
        Assert.Contains("--overwrite", error);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void AnalyzeBenchWithOverwriteRemovesOnlyWhatTheBenchWrote()
    {
        using var dir = new TempFolder();
        var folder = dir.File("work");
        Directory.CreateDirectory(Path.Combine(folder, "thesis"));
        File.WriteAllText(Path.Combine(folder, "thesis", "chapter1.tex"), "months of writing");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = Bench(folder, "--overwrite");
        Assert.True(code == 0, error);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before)); // its own files and marker gone, the user's kept
    }

    [Fact]
    public void AnalyzeBenchIntoANewFolderLeavesNothingBehindAndKeepsItWithKeep()
    {
        using var dir = new TempFolder();
        var (code, _, error) = Bench(dir.File("new"));
        Assert.True(code == 0, error);
        Assert.False(Directory.Exists(dir.File("new")));

        (code, _, error) = Bench(dir.File("kept"), "--keep");
        Assert.True(code == 0, error);
        Assert.Equal("analysis-bench", OutputMarker.Read(dir.File("kept"))!.Kind);
        (code, _, error) = Bench(dir.File("kept"));                   // its own folder: used again without --overwrite
        Assert.True(code == 0, error);
        Assert.False(Directory.Exists(dir.File("kept")) && Directory.EnumerateFileSystemEntries(dir.File("kept")).Any());
    }
}
