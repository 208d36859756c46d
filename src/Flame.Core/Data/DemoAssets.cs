namespace Flame.Data;

/// <summary>
/// Finds the shipped demo corpus and tokenizer (data/demo): first beside the program (the build copies
/// them there), then in a data/demo folder of the current directory or any parent (a repository checkout).
/// </summary>
public static class DemoAssets
{
    public const string CorpusFile = "brown.jsonl.zst";
    public const string TokenizerFile = "tokenizer.json";

    public static string Folder()
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "data", "demo") };
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            candidates.Add(Path.Combine(dir.FullName, "data", "demo"));
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, CorpusFile)))
            ?? throw new UserError($"demo corpus not found (looked for data/demo/{CorpusFile} beside the program and in the current folder and its parents)");
    }

    public static string CorpusPath() => Path.Combine(Folder(), CorpusFile);
    public static string TokenizerPath() => Path.Combine(Folder(), TokenizerFile);
}
