using Flame.Output;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>
/// Never touch what Flame did not write: each case as a user met it, asserting the exit code, the one-line
/// message and that nothing outside the command's own output changed.
/// </summary>
public class RunFolderSafetyTests(TinyRun tiny) : IClassFixture<TinyRun>
{
    static void AssertUnchanged(FolderSnapshot before, string root, params string[] allowed) =>
        Assert.Empty(FolderSnapshot.Of(root).ChangesSince(before, allowed));

    static void AssertOneLine(string error, params string[] parts)
    {
        Assert.Single(error.Trim().Split('\n'));
        foreach (var part in parts) Assert.Contains(part, error);
    }

    /// <summary>A folder a user filled by hand: what `flame run` writes, and a file of their own.</summary>
    static string UsersFolder(TempFolder dir)
    {
        var folder = dir.File("mine");
        Directory.CreateDirectory(Path.Combine(folder, "eval"));
        Directory.CreateDirectory(Path.Combine(folder, "traces", "actives"));
        File.WriteAllText(Path.Combine(folder, "metrics.jsonl"), "{\"step\": 1, \"mine\": true}\n");
        File.WriteAllText(Path.Combine(folder, "config.json"), "{\"mine\": true}");
        File.WriteAllText(Path.Combine(folder, "eval", "summary.json"), "{}");
        File.WriteAllText(Path.Combine(folder, "traces", "actives", "x.parquet"), "not flame's");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "a week of GPU time");
        return folder;
    }

    [Fact]
    public void TrainIntoAnUnrelatedNonEmptyFolderIsRefusedAndNothingChanges()
    {
        using var dir = new TempFolder();
        var folder = UsersFolder(dir);
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(folder));
        Assert.Equal(2, code);
        AssertOneLine(error, folder, "was not written by Flame", "--overwrite", "new or empty --out");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void RunIntoAnUnrelatedNonEmptyFolderIsRefusedAndNothingChanges()
    {
        using var dir = new TempFolder();
        var folder = UsersFolder(dir);
        var before = FolderSnapshot.Of(dir.Path);
        var args = tiny.TrainArgs(folder);
        args[0] = "run";
        var (code, _, error) = TinyRun.Flame(args);
        Assert.Equal(2, code);
        AssertOneLine(error, folder, "--overwrite");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void TrainWithOverwriteIntoAnUnrelatedFolderRemovesOnlyWhatTrainingWrites()
    {
        using var dir = new TempFolder();
        var folder = UsersFolder(dir);
        var notes = File.ReadAllText(Path.Combine(folder, "notes.txt"));
        var (code, output, error) = TinyRun.Flame(tiny.TrainArgs(folder, "--overwrite"));
        Assert.True(code == 0, error);
        Assert.Contains("--overwrite: removed", output);
        Assert.Equal(notes, File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.False(Directory.Exists(Path.Combine(folder, "traces")));     // the user's traces were flame run's to replace
        Assert.DoesNotContain("mine", File.ReadAllText(Path.Combine(folder, "metrics.jsonl")));
        Assert.True(Directory.Exists(Path.Combine(folder, "checkpoints", "iter_0000004")));
        Assert.Equal("run", OutputMarker.Read(folder)!.Kind);
    }

    [Fact]
    public void TrainIntoAnExistingRunWithoutResumeIsRefusedAndTheRunIsKept()
    {
        var before = FolderSnapshot.Of(tiny.Run);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(tiny.Run));
        Assert.Equal(2, code);
        AssertOneLine(error, tiny.Run, "iter_0000004", "--resume", "--overwrite", "new --out");
        AssertUnchanged(before, tiny.Run);
    }

    [Fact]
    public void TrainIntoARunFromAnOlderFlameWithoutMarkerIsRefusedToo()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("old"));
        File.Delete(Path.Combine(run, OutputMarker.FileName));
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run));
        Assert.Equal(2, code);
        AssertOneLine(error, run, "--resume");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void TrainWithOverwriteStartsTheRunAgainWithoutOldCheckpoints()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("again"));
        Directory.Move(Path.Combine(run, "checkpoints", "iter_0000004"), Path.Combine(run, "checkpoints", "iter_0000020"));
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--overwrite"));
        Assert.True(code == 0, error);
        // No chimera: the old run's later checkpoint is gone, so the newest is this run's.
        Assert.Equal(["iter_0000002", "iter_0000004"], Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ImportHfIntoAnExistingRunIsRefusedAndTheRunIsKept()
    {
        using var dir = new TempFolder();
        var (exported, _, exportError) = TinyRun.Flame("export", "hf", "--run", tiny.Run, "--out", dir.File("hf"), "--no-parity");
        Assert.True(exported == 0, exportError);
        var run = tiny.CopyTo(dir.File("run"));
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame("import", "hf", "--model", dir.File("hf"), "--out", run);
        Assert.Equal(2, code);
        AssertOneLine(error, run, "not empty", "new or empty folder");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void ExportHfIntoAModelFolderFlameDidNotWriteIsRefusedAndItsShardsAreKept()
    {
        using var dir = new TempFolder();
        var model = dir.File("model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "config.json"), "{\"model_type\": \"llama\"}");
        File.WriteAllText(Path.Combine(model, "model-00001-of-00002.safetensors"), "shard 1");
        File.WriteAllText(Path.Combine(model, "model-00002-of-00002.safetensors"), "shard 2");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame("export", "hf", "--run", tiny.Run, "--out", model, "--no-parity");
        Assert.Equal(2, code);
        AssertOneLine(error, model, "was not written by Flame", "--overwrite");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void ExportHfAgainIntoItsOwnExportReplacesIt()
    {
        using var dir = new TempFolder();
        for (int i = 0; i < 2; i++)
        {
            var (code, _, error) = TinyRun.Flame("export", "hf", "--run", tiny.Run, "--out", dir.File("hf"), "--no-parity");
            Assert.True(code == 0, error);
        }
        Assert.Equal("hf-export", OutputMarker.Read(dir.File("hf"))!.Kind);
    }

    [Fact]
    public void TraceIntoAFolderHoldingAnotherTraceSetIsRefusedAndItIsKept()
    {
        using var dir = new TempFolder();
        var downloaded = dir.File("flame-moe-traces");
        Directory.CreateDirectory(Path.Combine(downloaded, "samples"));
        Directory.CreateDirectory(Path.Combine(downloaded, "actives", "iter_0001000"));
        File.WriteAllText(Path.Combine(downloaded, "samples", "000.parquet"), "published samples");
        File.WriteAllText(Path.Combine(downloaded, "actives", "iter_0001000", "layer_02.parquet"), "published routing");
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame("trace", "--run", tiny.Run, "--output", downloaded, "--tokens", "32", "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLine(error, downloaded, "was not written by Flame", "--overwrite", "samples, actives, manifest.json");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void TraceWithOverwriteRemovesOnlyTheTraceFilesOfTheFolder()
    {
        using var dir = new TempFolder();
        var folder = dir.File("traces");
        Directory.CreateDirectory(Path.Combine(folder, "samples"));
        File.WriteAllText(Path.Combine(folder, "samples", "000.parquet"), "someone else's");
        File.WriteAllText(Path.Combine(folder, "README.md"), "mine");
        var (code, _, error) = TinyRun.Flame("trace", "--run", tiny.Run, "--output", folder, "--tokens", "32", "--device", "cpu", "--overwrite");
        Assert.True(code == 0, error);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(folder, "README.md")));
        Assert.True(File.Exists(Path.Combine(folder, "actives", "iter_0004", "layer_02.parquet")));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(folder, "samples")), f => File.ReadAllText(f) == "someone else's");
    }

    [Fact]
    public void SymlinkedTraceSamplesAreRefusedAndTheirTargetIsKept()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var elsewhere = dir.File("elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.WriteAllText(Path.Combine(elsewhere, "000.parquet"), "not the run's");
        Directory.CreateDirectory(Path.Combine(run, "traces"));
        Directory.CreateSymbolicLink(Path.Combine(run, "traces", "samples"), elsewhere);
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, error) = TinyRun.Flame("trace", "--run", run, "--tokens", "32", "--device", "cpu");
        Assert.Equal(2, code);
        AssertOneLine(error, Path.Combine(run, "traces", "samples"), "symbolic link");
        AssertUnchanged(before, dir.Path);
    }

    [Fact]
    public void SymlinkedTokenizerAndConfigInARunAreReplacedAndTheirTargetsKept()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        var outside = dir.File("outside");
        Directory.CreateDirectory(outside);
        foreach (var name in new[] { "tokenizer.json", "config.json" })
        {
            File.WriteAllText(Path.Combine(outside, name), "the user's own " + name);
            File.Delete(Path.Combine(run, name));
            File.CreateSymbolicLink(Path.Combine(run, name), Path.Combine(outside, name));
        }
        var before = FolderSnapshot.Of(outside);
        var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume"));
        Assert.True(code == 0, error);
        AssertUnchanged(before, outside);
        foreach (var name in new[] { "tokenizer.json", "config.json" })
        {
            Assert.Null(new FileInfo(Path.Combine(run, name)).LinkTarget); // the link itself was replaced by the run's file
            Assert.DoesNotContain("the user's own", File.ReadAllText(Path.Combine(run, name)));
        }
    }

    [Fact]
    public void ASecondWriterOfARunIsRefusedNamingTheHolder()
    {
        using var dir = new TempFolder();
        var run = tiny.CopyTo(dir.File("run"));
        using (RunLock.Acquire(run, "flame train (the first writer)"))
        {
            var before = FolderSnapshot.Of(dir.Path);
            var (code, _, error) = TinyRun.Flame(tiny.TrainArgs(run, "--resume"));
            Assert.Equal(2, code);
            AssertOneLine(error, run, $"pid {Environment.ProcessId}", "flame train (the first writer)", "another Flame process");
            AssertUnchanged(before, dir.Path);
        }
        var (after, _, afterError) = TinyRun.Flame(tiny.TrainArgs(run, "--resume"));
        Assert.True(after == 0, afterError); // released with its holder
    }
}
