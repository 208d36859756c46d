using Flame.Failures;
using Flame.Tests.Data;

namespace Flame.Tests.Safety;

/// <summary>The top-level handler: one line, exit 2 for the user, 1 for the environment.</summary>
public class FailureReportTests
{
    static (int Code, string Err) Report(Exception e, params string[] args)
    {
        var stderr = new StringWriter();
        int code = TopLevelHandler.Report(e, stderr, args);
        return (code, stderr.ToString());
    }

    static Exception Caught(Action action)
    {
        try { action(); }
        catch (Exception e) { return e; }
        throw new Xunit.Sdk.XunitException("expected an exception");
    }

    [Fact]
    public void AUserErrorIsItsMessageOnOneLineWithExit2()
    {
        var (code, err) = Report(new UserError("config.toml: model.experts must be positive"));
        Assert.Equal(2, code);
        Assert.Equal("error: config.toml: model.experts must be positive" + Environment.NewLine, err);
    }

    [Fact]
    public void ARealDiskFullWriteIsOneLineWithExit1()
    {
        // /dev/full answers every write with ENOSPC, as a full disk does.
        var e = File.Exists("/dev/full") ? Caught(() => File.WriteAllBytes("/dev/full", new byte[1 << 16])) : IoFailure.DiskFull("/dev/full");
        Assert.True(IoFailure.IsDiskFull(e), e.ToString());
        var (code, err) = Report(e);
        Assert.Equal(1, code);
        Assert.StartsWith("error: disk full: ", err);
        Assert.Contains("/dev/full", err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void ARealPermissionDeniedIsOneLineWithExit1()
    {
        // /sys refuses new files even to root; elsewhere a read-only file stands in.
        var e = Caught(() => File.WriteAllText("/sys/flame-permission-test", "x"));
        Assert.True(IoFailure.IsEnvironmental(e), e.ToString());
        var (code, err) = Report(e);
        Assert.Equal(1, code);
        Assert.Contains("/sys/flame-permission-test", err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public void AFileWhereAFolderIsNeededIsNamedWithExit2()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("afile"), "x");
        var e = Caught(() => File.WriteAllText(Path.Combine(dir.File("afile"), "data", "x.bin"), "x"));
        var (code, err) = Report(e);
        Assert.Equal(2, code);
        Assert.Contains($"{dir.File("afile")}: is a file, not a folder", err);
    }

    [Fact]
    public void AFolderWhereAFileIsNeededIsNamedWithExit2()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("adir"));
        var e = Caught(() => File.WriteAllText(dir.File("adir"), "x"));
        var (code, err) = Report(e);
        Assert.Equal(2, code);
        Assert.Contains($"{dir.File("adir")}: is a folder, not a file", err);
    }

    [Fact]
    public void AnUnexpectedExceptionIsOneLineAndItsStackTraceGoesToACrashLog()
    {
        using var dir = new TempFolder();
        var before = Environment.GetEnvironmentVariable("FLAME_CRASH_DIR");
        Environment.SetEnvironmentVariable("FLAME_CRASH_DIR", dir.Path);
        try
        {
            var e = Caught(() => throw new InvalidOperationException("sequence contains\nno elements"));
            var (code, err) = Report(e, "train", "--out", "r");
            Assert.Equal(1, code);
            Assert.Single(err.TrimEnd().Split('\n'));
            Assert.StartsWith("error: internal error (InvalidOperationException: sequence contains)", err);
            var log = Assert.Single(Directory.GetFiles(dir.Path, "flame-crash-*.log"));
            Assert.Contains(log, err);
            var text = File.ReadAllText(log);
            Assert.Contains("flame train --out r", text);
            Assert.Contains(nameof(AnUnexpectedExceptionIsOneLineAndItsStackTraceGoesToACrashLog), text); // the stack trace
        }
        finally { Environment.SetEnvironmentVariable("FLAME_CRASH_DIR", before); }
    }

    [Fact]
    public void FlameDebugPrintsTheStackTraceAfterTheLine()
    {
        var before = Environment.GetEnvironmentVariable("FLAME_DEBUG");
        Environment.SetEnvironmentVariable("FLAME_DEBUG", "1");
        try
        {
            var (code, err) = Report(Caught(() => throw new UserError("bad --seq")));
            Assert.Equal(2, code);
            var lines = err.Split('\n');
            Assert.Equal("error: bad --seq", lines[0].TrimEnd());
            Assert.Contains(nameof(FlameDebugPrintsTheStackTraceAfterTheLine), err);
        }
        finally { Environment.SetEnvironmentVariable("FLAME_DEBUG", before); }
    }
}
