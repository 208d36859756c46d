using Flame.Data.Indexed;
using Flame.Data.Preparation;
using Flame.Data.Readers;
using Flame.Data.Tokenization;

namespace Flame.Data;

/// <summary>The demo corpus tokenized with the demo tokenizer, prepared once into a folder and reused.</summary>
public static class DemoDataset
{
    /// <summary>The prefix of the demo dataset prepared into <paramref name="folder"/>.</summary>
    public static string PrefixIn(string folder) => Path.Combine(folder, "brown");

    public static string EnsurePrepared(string folder, IProgress<PrepareProgress>? progress = null)
    {
        var prefix = PrefixIn(folder);
        if (File.Exists(prefix + ".idx") && File.Exists(prefix + ".bin")) return prefix;
        Directory.CreateDirectory(folder);
        DatasetPreparer.Run(new PrepareOptions([DemoAssets.CorpusPath()], TokenizerLoader.Load("demo"), prefix, new CorpusReadOptions()), progress);
        return prefix;
    }
}
