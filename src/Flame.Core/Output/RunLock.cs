using System.Text.Json;

namespace Flame.Output;

/// <summary>Who holds a run folder's lock.</summary>
public sealed record RunLockHolder(int Pid, string Host, string Command, DateTimeOffset Started)
{
    public override string ToString() => $"pid {Pid} on {Host}, '{Command}', since {Started:yyyy-MM-dd HH:mm:ss}Z";
}

/// <summary>
/// One writer per run folder: an exclusive OS lock on RUN/.flame-lock, held while this object lives (in practice the
/// process's life) and released by the OS when the process dies, however it dies. The holder's pid, host, command
/// and start time are in .flame-lock.json beside it, so a second writer can be told who holds the folder.
/// </summary>
public sealed class RunLock : IDisposable
{
    readonly FileStream _stream;
    readonly string _holderPath;

    RunLock(FileStream stream, string holderPath) => (_stream, _holderPath) = (stream, holderPath);

    public static RunLock Acquire(string folder, string command)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, OutputFolder.LockFile);
        var holderPath = Path.Combine(folder, OutputFolder.LockHolderFile);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException)
        {
            var holder = ReadHolder(holderPath);
            throw new UserError($"{folder}: another Flame process is writing this folder ({holder?.ToString() ?? "holder unknown"}); " +
                                "wait for it to finish or stop it, or choose another output folder");
        }
        var me = new RunLockHolder(Environment.ProcessId, Environment.MachineName, command, DateTimeOffset.UtcNow);
        OutputFiles.WriteText(holderPath, JsonSerializer.Serialize(me));
        return new RunLock(stream, holderPath);
    }

    public static RunLockHolder? ReadHolder(string holderPath)
    {
        try { return File.Exists(holderPath) ? JsonSerializer.Deserialize<RunLockHolder>(File.ReadAllText(holderPath)) : null; }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException) { return null; }
    }

    public void Dispose()
    {
        try { File.Delete(_holderPath); } catch (IOException) { }
        _stream.Dispose();
    }
}
