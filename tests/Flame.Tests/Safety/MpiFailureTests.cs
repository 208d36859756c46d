using System.Diagnostics;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>
/// Under a launcher (two ranks on this host): a user mistake is still one line on stderr and exit 2.
/// OpenMPI adds its own MPI_ABORT banner unless mpirun is quiet (-q), as the README says.
/// </summary>
public class MpiFailureTests
{
    [Fact]
    public async Task AFailingTwoRankTrainUnderQuietMpirunIsOneLineWithExit2()
    {
        var mpirun = new[] { "/usr/bin/mpirun", "/usr/local/bin/mpirun" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mpirun not found: install OpenMPI (apt-get install openmpi-bin); scripts/test.sh does it as root");
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("afile"), "x");
        var before = FolderSnapshot.Of(dir.Path);
        var start = new ProcessStartInfo(mpirun) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["OMP_NUM_THREADS"] = "1";
        foreach (var arg in new[] { "-q", "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "OMP_NUM_THREADS", "dotnet",
                     Path.Combine(AppContext.BaseDirectory, "flame.dll"), "train", "--out", dir.File("afile/run"), "--set", "training.iterations=1" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); Assert.Fail("no end in 3 minutes"); }
        var err = (await stderr).Trim();
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}\n{err}\n{await stdout}");
        Assert.Equal($"error: {dir.File("afile")}: is a file, not a folder, so {dir.File("afile/run")} cannot be created under it", err);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }
}
