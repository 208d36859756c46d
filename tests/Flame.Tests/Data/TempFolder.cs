namespace Flame.Tests.Data;

/// <summary>A fresh folder per test, removed afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("flame-data-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    /// <summary>The folder's entries without Flame's bookkeeping files (output marker, lock).</summary>
    public string[] Entries() => Directory.GetFileSystemEntries(Path).Select(System.IO.Path.GetFileName).Where(n => !Flame.Output.OutputFolder.IsBookkeeping(n!)).Order().ToArray()!;
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
