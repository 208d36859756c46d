namespace Flame.Cli.Commands;

/// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool and reorder updates).</summary>
sealed class ActionProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
