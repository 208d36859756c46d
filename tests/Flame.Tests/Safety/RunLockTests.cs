using System.Diagnostics;
using Flame.Output;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>One writer per run: an OS lock that the holder's death releases.</summary>
public class RunLockTests
{
    [Fact]
    public void ASecondLockOnTheSameFolderIsRefusedNamingTheHolderUntilTheFirstIsReleased()
    {
        using var dir = new TempFolder();
        using (RunLock.Acquire(dir.Path, "flame train first"))
        {
            var error = Assert.Throws<UserError>(() => RunLock.Acquire(dir.Path, "flame train second"));
            Assert.Contains($"pid {Environment.ProcessId} on {Environment.MachineName}, 'flame train first'", error.Message);
        }
        using (RunLock.Acquire(dir.Path, "flame train second")) { }
    }

    [Fact]
    public void TheLockOfAKilledProcessIsReleased()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.Path);
        // flock(1) takes the same flock(2) lock .NET takes for FileShare.None, in another process (-o: only flock holds it).
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", "-o", Path.Combine(dir.Path, OutputFolder.LockFile), "sleep", "60"]) { UseShellExecute = false })!;
        var clock = Stopwatch.StartNew();
        UserError? refused = null;
        while (refused is null && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            try { RunLock.Acquire(dir.Path, "flame train").Dispose(); Thread.Sleep(20); } // the child has not locked yet
            catch (UserError e) { refused = e; }
        }
        Assert.NotNull(refused);
        Assert.Contains("another Flame process", refused.Message);
        holder.Kill(entireProcessTree: true);                            // SIGKILL: nothing of the holder runs
        holder.WaitForExit();
        using (RunLock.Acquire(dir.Path, "flame train")) { }
    }
}
