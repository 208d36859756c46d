namespace Flame;

/// <summary>
/// A mistake in what the user asked for (a bad preset, a config that cannot work, a missing
/// folder). The CLI prints its message as one line and exits with code 2, without a stack trace.
/// </summary>
public sealed class UserError(string message) : Exception(message);
