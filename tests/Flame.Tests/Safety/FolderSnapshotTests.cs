namespace Flame.Tests.Safety;

public class FolderSnapshotTests
{
    [Fact]
    public void AddedRemovedAndChangedFilesAreReportedAndAllowedPathsLeftOut()
    {
        using var folder = new Data.TempFolder();
        File.WriteAllText(folder.File("keep.txt"), "a");
        File.WriteAllText(folder.File("change.txt"), "b");
        File.WriteAllText(folder.File("remove.txt"), "c");
        var before = FolderSnapshot.Of(folder.Path);
        File.WriteAllText(folder.File("change.txt"), "B");
        File.Delete(folder.File("remove.txt"));
        Directory.CreateDirectory(folder.File("out"));
        File.WriteAllText(Path.Combine(folder.Path, "out", "x"), "x");
        var after = FolderSnapshot.Of(folder.Path);
        Assert.Equal(["changed change.txt", "removed remove.txt", "added out/", "added out/x"], after.ChangesSince(before));
        Assert.Equal(["changed change.txt", "removed remove.txt"], after.ChangesSince(before, "out"));
        Assert.Empty(FolderSnapshot.Of(folder.Path).ChangesSince(after));
    }
}
