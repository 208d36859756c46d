namespace Flame.Failures;

/// <summary>
/// Recognises the environment's I/O failures. On Linux .NET keeps errno as the HResult of an IOException it
/// does not map to a subtype (ENOSPC 28, EROFS 30, EDQUOT 122); Windows uses 0x80070070 for a full disk.
/// </summary>
public static class IoFailure
{
    const int Enospc = 28, Erofs = 30, Edquot = 122;
    const int WindowsDiskFull = unchecked((int)0x80070070), WindowsHandleDiskFull = unchecked((int)0x80070027);

    public static bool IsDiskFull(Exception e) => e is IOException io && (io.HResult is Enospc or Edquot or WindowsDiskFull or WindowsHandleDiskFull
        || io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
        || io.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase));

    public static bool IsReadOnlyFileSystem(Exception e) => e is IOException io &&
        (io.HResult == Erofs || io.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase));

    public static bool IsPermissionDenied(Exception e) => e is UnauthorizedAccessException;

    /// <summary>True when the exception is the environment's fault (the cases above).</summary>
    public static bool IsEnvironmental(Exception e) => IsDiskFull(e) || IsReadOnlyFileSystem(e) || IsPermissionDenied(e);

    /// <summary>The exception .NET raises for a full disk, for tests and for code that simulates one.</summary>
    public static IOException DiskFull(string path) => new($"No space left on device : '{path}'", Enospc);
}
