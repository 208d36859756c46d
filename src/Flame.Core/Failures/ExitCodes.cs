namespace Flame.Failures;

/// <summary>What the CLI's exit status means (README, "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>Something in the environment failed (disk full, permission denied, read-only file system), or a bug (with a crash log).</summary>
    public const int Environment = 1;

    /// <summary>The user asked for something that cannot work; the message names the input and the way out.</summary>
    public const int UserMistake = 2;
}
