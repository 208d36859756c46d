using System.Diagnostics;
using Flame.Checkpointing;
using Flame.Data.Indexed;
using Flame.Output;
using Flame.Tests.Data;
using Flame.Training;

namespace Flame.Tests.Safety;

/// <summary>Temporary files carry their process's id: a killed process's are removed at the next start, a live one's never.</summary>
public class TemporaryFilesTests
{
    /// <summary>The id of a process that has exited.</summary>
    static int DeadProcess()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    [Fact]
    public void ProcessOfReadsTheIdFromEitherTemporaryForm()
    {
        Assert.Equal(123, TemporaryFiles.ProcessOf("iter_0000004.tmp-123"));
        Assert.Equal(456, TemporaryFiles.ProcessOf("data.bin.tmp-456-0a1b2c3d"));
        Assert.Null(TemporaryFiles.ProcessOf("iter_0000004"));
        Assert.Null(TemporaryFiles.ProcessOf("notes.tmp-draft"));
    }

    [Fact]
    public void CheckpointTemporariesOfAKilledProcessAreRemovedAtTheNextSaveAndALiveOnesKept()
    {
        using var dir = new TempFolder();
        var store = new CheckpointStore(dir.Path);
        int dead = DeadProcess();
        var abandoned = Path.Combine(store.Root, $"iter_0000008.tmp-{dead}");
        var live = Path.Combine(store.Root, "iter_0000008.tmp-1");       // pid 1 is alive for as long as the machine runs
        foreach (var folder in new[] { abandoned, live })
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "model.bin"), "half written");
        }
        store.Save(2, "{}", folder => File.WriteAllText(Path.Combine(folder, "model.bin"), "weights"));
        Assert.False(Directory.Exists(abandoned));
        Assert.True(Directory.Exists(live));
        Assert.Equal(2, store.Latest()!.Value.State.Step);
        Assert.DoesNotContain(Directory.GetDirectories(store.Root), d => d.Contains($".tmp-{Environment.ProcessId}"));
    }

    [Fact]
    public void AFailedCheckpointWriteLeavesNoTemporary()
    {
        using var dir = new TempFolder();
        var store = new CheckpointStore(dir.Path);
        Assert.Throws<IOException>(() => store.Save(2, "{}", folder => throw new IOException("disk full")));
        Assert.Empty(Directory.GetFileSystemEntries(store.Root));
    }

    [Fact]
    public void DatasetTemporariesOfAKilledPreparationAreRemovedWhenItStartsAgain()
    {
        using var dir = new TempFolder();
        var prefix = dir.File("corpus");
        int dead = DeadProcess();
        string[] abandoned = [$"corpus.bin.tmp-{dead}-0a1b2c3d", $"corpus.idx.tmp-{dead}-0a1b2c3d"];
        string[] kept = ["corpus.bin.tmp-1-0a1b2c3d", "other.bin.tmp-" + dead + "-0a1b2c3d"];
        foreach (var name in abandoned.Concat(kept)) File.WriteAllText(dir.File(name), "partial");
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16))
        {
            writer.AddDocument([1, 2, 3]);
            writer.Complete();
        }
        Assert.Equal(kept.Append("corpus.bin").Append("corpus.idx").Order(StringComparer.Ordinal), dir.Entries().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void WritingOverASymlinkReplacesTheLinkNotItsTarget()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("target.json"), "precious");
        File.CreateSymbolicLink(dir.File("config.json"), dir.File("target.json"));
        OutputFiles.WriteText(dir.File("config.json"), "new");
        Assert.Equal("precious", File.ReadAllText(dir.File("target.json")));
        Assert.Null(new FileInfo(dir.File("config.json")).LinkTarget);
        Assert.Equal("new", File.ReadAllText(dir.File("config.json")));
        Assert.Equal(["config.json", "target.json"], dir.Entries());
    }
}
