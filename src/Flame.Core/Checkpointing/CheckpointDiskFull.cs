using Flame.Failures;

namespace Flame.Checkpointing;

/// <summary>
/// A checkpoint that did not fit on the disk: its partial folder is removed (it could never be used, and it
/// holds the space the next attempt needs) and the error says how much space a checkpoint takes.
/// </summary>
public static class CheckpointDiskFull
{
    public static EnvironmentError Error(CheckpointStore store, string partialFolder, long step, Exception cause)
    {
        long written = FolderBytes(partialFolder);
        try { Directory.Delete(partialFolder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        // The previous checkpoint is the best estimate of this one's size; without one, what was written is a lower bound.
        long? previous = store.Latest() is { } last ? FolderBytes(last.Folder) : null;
        string need = previous is long bytes && bytes >= written ? $"about {Bytes(bytes)}" : $"more than {Bytes(written)}";
        string free = Free(store.Root) is long available ? $", {Bytes(available)} is free" : "";
        return new EnvironmentError(
            $"disk full while writing checkpoint {CheckpointStore.FolderName(step)} in {store.Root}: removed the partial checkpoint; a checkpoint needs {need}{free}. Free space, then continue with --resume", cause);
    }

    static long FolderBytes(string folder) =>
        Directory.Exists(folder) ? new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) : 0;

    static long? Free(string folder)
    {
        try { return new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return null; }
    }

    static string Bytes(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):N1} GiB" : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):N1} MiB" : $"{bytes / 1024.0:N1} KiB";
}
