namespace Flame.Tracing;

/// <summary>A trace file that could not be used, and why; the analyses of everything else go on.</summary>
public sealed record TraceProblem(string File, string Message)
{
    public override string ToString() => $"{File}: {Message}";
}

/// <summary>Thrown while streaming a trace file that turns out to be unusable; caught per file.</summary>
public sealed class TraceFileException(string file, string message) : Exception($"{file}: {message}")
{
    public string File { get; } = file;
    public string Reason { get; } = message;
}
