using Flame.Data;
using Flame.Data.Tokenization;

namespace Flame.Tests.Data;

/// <summary>
/// Long pieces (a 1 MB word once took minutes) go through MergeQueue; their ids must be exactly what the
/// library gives today and what the plain reference loop gives, on random and adversarial texts.
/// </summary>
public class LongPieceTests
{
    static IEnumerable<string> Texts(int seed)
    {
        var random = new Random(seed);
        string Letters(int n, string alphabet)
        {
            var elements = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
            var parts = new List<string>();
            while (elements.MoveNext()) parts.Add(elements.GetTextElement()); // whole characters: never half a surrogate pair
            return string.Concat(Enumerable.Range(0, n).Select(_ => parts[random.Next(parts.Count)]));
        }
        yield return new string('a', 3000);                                          // one merge rule, ties everywhere
        yield return Letters(3000, "ab");                                            // many overlapping merges
        yield return Letters(2500, "abcdefghijklmnopqrstuvwxyz");
        yield return " " + Letters(1200, "theandofing");                             // a long piece with a leading space
        yield return Letters(900, "éüßçøåœ漢字😀");                                    // multi-byte UTF-8 in one piece
        yield return new string(' ', 1500) + "x";                                     // a long whitespace piece
        yield return Letters(1000, "0123456789");                                    // digits
        yield return Letters(1000, "!?.,;:-()[]{}");                                 // punctuation
        yield return "short words first. " + Letters(800, "xyz") + "<|endoftext|>" + Letters(700, "qrs") + " and after\n\n";
        yield return string.Concat(Enumerable.Range(0, 40).Select(i => Letters(random.Next(1, 400), "abcde") + (i % 3 == 0 ? "\n" : " ")));
    }

    [Fact]
    public void DemoTokenizerLongPiecesMatchTheLibraryAndTheReference()
    {
        var demo = TokenizerLoader.Load("demo");
        var reference = new ReferenceBpe(DemoAssets.TokenizerPath());
        foreach (var text in Texts(7))
        {
            Assert.True(LongPieces.MayHoldOne(text), text[..20]);
            var ids = demo.Encode(text);
            Assert.Equal(demo.Inner.EncodeToIds(text), ids);
            Assert.Equal(text, demo.Decode(ids));
            if (!text.Contains("<|endoftext|>")) Assert.Equal(reference.Encode(text), ids); // the reference has no special-token split
        }
    }

    [Theory]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")] // the same TiktokenRanks table, read from the other embedded file
    public void TiktokenLongPiecesMatchTheLibrary(string encoding)
    {
        var tiktoken = TokenizerLoader.Load(encoding);
        foreach (var text in Texts(11))
        {
            var ids = tiktoken.Encode(text);
            Assert.Equal(tiktoken.Inner.EncodeToIds(text), ids);
            Assert.Equal(text, tiktoken.Decode(ids));
        }
    }

    [Fact]
    public void RandomMergeTablesMatchThePlainLoop()
    {
        // Small random vocabularies make merges collide and chain in ways a trained tokenizer rarely shows.
        var random = new Random(3);
        for (int trial = 0; trial < 30; trial++)
        {
            var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar[b].ToString()] = vocab.Count;
            var merges = new List<(string, string)>();
            var symbols = "abc".Select(c => c.ToString()).ToList();
            for (int m = 0; m < 25; m++)
            {
                var (l, r) = (symbols[random.Next(symbols.Count)], symbols[random.Next(symbols.Count)]);
                if (vocab.ContainsKey(l + r) || merges.Contains((l, r))) continue;
                merges.Add((l, r));
                vocab[l + r] = vocab.Count;
                symbols.Add(l + r);
            }
            var model = new BpeModel(vocab, merges, new Dictionary<string, int>());
            var tokenizer = TokenizerLoader.FromModel(model, $"random-{trial}");
            var text = new string(Enumerable.Range(0, 600).Select(_ => "abc"[random.Next(3)]).ToArray());
            Assert.Equal(tokenizer.Inner.EncodeToIds(text), tokenizer.Encode(text));
            Assert.Equal(PlainLoop(model, text), tokenizer.Encode(text));
        }
    }

    /// <summary>The quadratic definition: merge the lowest-ranked adjacent pair, leftmost first, until none is left.</summary>
    static List<int> PlainLoop(BpeModel model, string piece)
    {
        var ranks = model.Merges.Select((m, i) => (m, i)).ToDictionary(x => x.m, x => x.i);
        var symbols = System.Text.Encoding.UTF8.GetBytes(piece).Select(b => ByteLevelAlphabet.ByteToChar[b].ToString()).ToList();
        while (true)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (ranks.TryGetValue((symbols[i], symbols[i + 1]), out var r) && r < bestRank) (best, bestRank) = (i, r);
            if (best < 0) return symbols.Select(s => model.Vocabulary[s]).ToList();
            symbols[best] += symbols[best + 1];
            symbols.RemoveAt(best + 1);
        }
    }
}
