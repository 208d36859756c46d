namespace Flame.Failures;

/// <summary>
/// The machine, not the request, stopped the command: a full disk, a read-only file system, a permission the
/// process lacks. The CLI prints its message as one line and exits with <see cref="ExitCodes.Environment"/>.
/// </summary>
public sealed class EnvironmentError(string message, Exception? cause = null) : Exception(message, cause);
