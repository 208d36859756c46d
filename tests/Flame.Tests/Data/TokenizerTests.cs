using Flame.Data;
using Flame.Data.Readers;
using Flame.Data.Tokenization;

namespace Flame.Tests.Data;

public class TokenizerTests
{
    // "aa aa aa" splits into "aa" once and " aa" twice. Pair counts: (a,a) 3, (Ġ,a) 2, so the first merge
    // is "a a" (id 257 after <|endoftext|> = 0 and bytes 1..256), then (Ġ,aa) with count 2 becomes 258.
    [Fact]
    public void TrainerMergesMostFrequentPairsFirst()
    {
        var model = BpeTrainer.Train(["aa aa aa"], new BpeTrainerOptions(VocabSize: 259));
        Assert.Equal([("a", "a"), ("Ġ", "aa")], model.Merges);
        Assert.Equal(0, model.Vocabulary["<|endoftext|>"]);
        Assert.Equal(1 + 'a', model.Vocabulary["a"]);
        Assert.Equal(1 + ' ', model.Vocabulary["Ġ"]);
        Assert.Equal(257, model.Vocabulary["aa"]);
        Assert.Equal(258, model.Vocabulary["Ġaa"]);
        Assert.Equal(259, model.VocabSize);

        var tokenizer = TokenizerLoader.FromModel(model, "tiny");
        Assert.Equal([257, 258, 1 + ' ', 1 + 'a'], tokenizer.Encode("aa aa a"));
        Assert.Equal([257, 0], tokenizer.EncodeDocument("aa"));
        Assert.Equal("aa aa a", tokenizer.Decode([257, 258, 33, 98]));
    }

    [Fact]
    public void LongestAddedTokenWinsAsInHuggingFace()
    {
        var trained = BpeTrainer.Train(["aa aa aa"], new BpeTrainerOptions(VocabSize: 259));
        var specials = new Dictionary<string, int>(trained.SpecialTokens) { ["  "] = 259, ["    "] = 260 };
        var tokenizer = TokenizerLoader.FromModel(trained with { SpecialTokens = specials }, "spaces");
        // "a", then four spaces as the single longest added token (not two 2-space tokens), then "a".
        Assert.Equal([1 + 'a', 260, 1 + 'a'], tokenizer.Encode("a    a"));
        Assert.Equal([1 + 'a', 259, 1 + 'a'], tokenizer.Encode("a  a"));
    }

    [Fact]
    public void TrainingIsDeterministic()
    {
        var texts = new[] { "the cat sat on the mat", "the dog sat", "cats and dogs" };
        var a = BpeTrainer.Train(texts, new BpeTrainerOptions(300));
        var b = BpeTrainer.Train(texts.AsEnumerable(), new BpeTrainerOptions(300));
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(a.Vocabulary.OrderBy(v => v.Value), b.Vocabulary.OrderBy(v => v.Value));
    }

    [Fact]
    public void WrittenTokenizerJsonLoadsToTheSameIdsAsTheTrainedModelAndTheReference()
    {
        using var dir = new TempFolder();
        var texts = BrownDocuments(40);
        var model = BpeTrainer.Train(texts, new BpeTrainerOptions(1024));
        var path = dir.File("tokenizer.json");
        TokenizerJsonWriter.Write(path, model);
        var fromModel = TokenizerLoader.FromModel(model, "trained");
        var fromFile = TokenizerLoader.Load(path);
        var reference = new ReferenceBpe(path);
        Assert.Equal(1024, fromFile.VocabSize);
        Assert.Equal(0, fromFile.EndOfDocumentId);
        foreach (var text in BrownDocuments(60).Skip(40).Append("Ünïcödé — “quotes”, emoji 😀, tabs\tand  double  spaces\n\nnew lines 12345"))
        {
            var ids = fromFile.Encode(text);
            Assert.Equal(fromModel.Encode(text), ids);
            Assert.Equal(reference.Encode(text), ids);
            Assert.Equal(text, fromFile.Decode(ids));
        }
    }

    [Fact]
    public void ShippedDemoTokenizerHas8192TokensAndAgreesWithTheReference()
    {
        var demo = TokenizerLoader.Load("demo");
        Assert.Equal(8192, demo.VocabSize);
        Assert.Equal(0, demo.EndOfDocumentId);
        var reference = new ReferenceBpe(DemoAssets.TokenizerPath());
        foreach (var text in BrownDocuments(3).Append("Hello, world! It's 1961 (or so)."))
        {
            var ids = demo.Encode(text);
            Assert.Equal(reference.Encode(text), ids);
            Assert.Equal(text, demo.Decode(ids));
        }
    }

    /// <summary>
    /// Fixtures/demo-tokenizer-ids.json holds texts with the ids the demo tokenizer gives them; the same file
    /// is what Hugging Face `tokenizers` is checked against elsewhere (see data/demo/README.md).
    /// </summary>
    [Fact]
    public void DemoTokenizerMatchesItsFixture()
    {
        var demo = TokenizerLoader.Load("demo");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "Fixtures", "demo-tokenizer-ids.json")));
        Assert.True(doc.RootElement.GetArrayLength() >= 10);
        foreach (var entry in doc.RootElement.EnumerateArray())
        {
            var text = entry.GetProperty("text").GetString()!;
            var ids = entry.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray();
            Assert.Equal(ids, demo.Encode(text));
        }
    }

    // Known ids from OpenAI's tiktoken for these encodings.
    [Theory]
    [InlineData("cl100k_base", new[] { 15339, 1917 }, 100257, 100277)]
    [InlineData("o200k_base", new[] { 24912, 2375 }, 199999, 200019)]
    public void BuiltInTiktokenEncodings(string name, int[] helloWorld, int eod, int vocab)
    {
        var t = TokenizerLoader.Load(name);
        Assert.Equal(helloWorld, t.Encode("hello world"));
        Assert.Equal(eod, t.EndOfDocumentId);
        Assert.Equal(vocab, t.VocabSize);
        Assert.Equal([.. helloWorld, 7], TokenizerLoader.Load(name, endOfDocumentId: 7).EncodeDocument("hello world"));
    }

    [Fact]
    public void DemoTokenizerFitsTheDemoModelPreset() =>
        Assert.Equal(Flame.Model.ModelPresets.Get("demo").VocabSize, TokenizerLoader.Load("demo").VocabSize);

    [Fact]
    public void PairMergesAndNfcNormalizerAreRead()
    {
        // Newer `tokenizers` write merges as ["a", "b"] pairs; GPT-NeoX's file declares an NFC normalizer.
        using var dir = new TempFolder();
        var model = BpeTrainer.Train(["caf\u00e9 caf\u00e9 caf\u00e9"], new BpeTrainerOptions(266));
        var path = dir.File("tokenizer.json");
        TokenizerJsonWriter.Write(path, model);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        var merges = json["model"]!["merges"]!.AsArray();
        var pairs = new System.Text.Json.Nodes.JsonArray(merges.Select(m => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonArray(m!.GetValue<string>().Split(' ').Select(x => (System.Text.Json.Nodes.JsonNode)x!).ToArray())).ToArray());
        json["model"]!["merges"] = pairs;
        json["normalizer"] = new System.Text.Json.Nodes.JsonObject { ["type"] = "NFC" };
        File.WriteAllText(path, json.ToJsonString());
        var loaded = TokenizerLoader.Load(path);
        var plain = TokenizerLoader.FromModel(model, "string merges");
        Assert.Equal(plain.Encode("caf\u00e9"), loaded.Encode("caf\u00e9"));
        Assert.Equal(loaded.Encode("caf\u00e9"), loaded.Encode("cafe\u0301")); // decomposed é composes first
        Assert.NotEqual(plain.Encode("caf\u00e9"), plain.Encode("cafe\u0301"));
    }

    [Fact]
    public void UnreadableTokenizerFilesAreNamed()
    {
        using var dir = new TempFolder();
        var missing = dir.File("none.json");
        Assert.Contains($"{missing}: no such tokenizer file", Assert.Throws<UserError>(() => TokenizerLoader.Load(missing)).Message);
        var broken = dir.File("broken.json");
        File.WriteAllText(broken, "{\"model\": {\"type\": \"BPE\", ");
        Assert.Contains($"{broken}: not valid JSON", Assert.Throws<UserError>(() => TokenizerLoader.Load(broken)).Message);
        var wordPiece = dir.File("wp.json");
        File.WriteAllText(wordPiece, "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        Assert.Contains("only byte-level BPE", Assert.Throws<UserError>(() => TokenizerLoader.Load(wordPiece)).Message);
        Assert.Contains("outside the vocabulary", Assert.Throws<UserError>(() => TokenizerLoader.Load("demo", endOfDocumentId: 8192)).Message);
    }

    static IEnumerable<string> BrownDocuments(int count) =>
        CorpusReader.ReadFile(DemoAssets.CorpusPath(), new CorpusReadOptions(), new CorpusReadLog()).Take(count).Select(d => d.Text[..Math.Min(3000, d.Text.Length)]).ToList();
}
