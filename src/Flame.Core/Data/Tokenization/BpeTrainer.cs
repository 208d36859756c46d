using System.Text;

namespace Flame.Data.Tokenization;

/// <summary>
/// Trains a byte-level BPE model the way GPT-2's was made: split text with the GPT-2 regex, count the
/// distinct pieces, then repeatedly merge the most frequent adjacent pair of symbols (ties broken by the
/// smaller pair of ids, so training is deterministic). Ids: special tokens first, then the 256 bytes, then
/// one id per merge. Pair counts are updated only for the words a merge touches, which keeps training on a
/// few MB of text to seconds.
/// </summary>
public static class BpeTrainer
{
    public static BpeModel Train(IEnumerable<string> texts, BpeTrainerOptions options)
    {
        var specials = options.Specials;
        int firstByte = specials.Count;
        if (options.VocabSize < firstByte + 256) throw new UserError($"vocabulary size {options.VocabSize} is below the {firstByte + 256} tokens that special tokens and the 256 bytes need");

        var counts = CountWords(texts);
        var words = new int[counts.Count][];
        var freq = new long[counts.Count];
        int w = 0;
        foreach (var (piece, count) in counts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            words[w] = Encoding.UTF8.GetBytes(piece).Select(b => firstByte + b).ToArray();
            freq[w++] = count;
        }

        var tokens = new List<string>(options.VocabSize);
        tokens.AddRange(specials);
        for (int b = 0; b < 256; b++) tokens.Add(ByteLevelAlphabet.ByteToChar[b].ToString());
        var merges = new List<(string, string)>();

        var pairs = new Dictionary<long, long>();
        var where = new Dictionary<long, HashSet<int>>();
        for (int i = 0; i < words.Length; i++) AddPairs(words[i], freq[i], i, pairs, where);
        var queue = new PriorityQueue<long, (long Count, long Key)>(Comparer<(long Count, long Key)>.Create((a, b) =>
            a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Key.CompareTo(b.Key)));
        foreach (var (key, count) in pairs) queue.Enqueue(key, (count, key));

        var touched = new HashSet<long>();
        while (tokens.Count < options.VocabSize && queue.TryDequeue(out var best, out var queued))
        {
            // Entries go stale as counts change; a fresh one was queued with every change.
            if (!pairs.TryGetValue(best, out var current) || current != queued.Count) continue;
            if (current < options.MinPairCount) break;
            int left = (int)(best >> 32), right = (int)(best & 0xFFFFFFFF), merged = tokens.Count;
            tokens.Add(tokens[left] + tokens[right]);
            merges.Add((tokens[left], tokens[right]));
            touched.Clear();
            foreach (var i in where[best])
            {
                RemovePairs(words[i], freq[i], pairs, touched);
                words[i] = Merge(words[i], left, right, merged);
                AddPairs(words[i], freq[i], i, pairs, where, touched);
            }
            pairs.Remove(best);
            where.Remove(best);
            foreach (var key in touched)
                if (pairs.TryGetValue(key, out var c) && c > 0) queue.Enqueue(key, (c, key));
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Count; id++) vocab[tokens[id]] = id;
        var specialIds = specials.Select((s, id) => (s, id)).ToDictionary(p => p.s, p => p.id, StringComparer.Ordinal);
        return new BpeModel(vocab, merges, specialIds);
    }

    static Dictionary<string, long> CountWords(IEnumerable<string> texts)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var regex = Gpt2PreTokenizer.Regex();
        foreach (var text in texts)
            foreach (var match in regex.EnumerateMatches(text))
            {
                var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
                var piece = text.AsSpan(match.Index, match.Length);
                lookup.TryGetValue(piece, out var n);
                lookup[piece] = n + 1;
            }
        return counts;
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    static void AddPairs(int[] word, long freq, int index, Dictionary<long, long> pairs, Dictionary<long, HashSet<int>> where, HashSet<long>? touched = null)
    {
        for (int j = 0; j + 1 < word.Length; j++)
        {
            long key = Key(word[j], word[j + 1]);
            pairs[key] = pairs.GetValueOrDefault(key) + freq;
            if (!where.TryGetValue(key, out var set)) where[key] = set = [];
            set.Add(index);
            touched?.Add(key);
        }
    }

    static void RemovePairs(int[] word, long freq, Dictionary<long, long> pairs, HashSet<long> touched)
    {
        for (int j = 0; j + 1 < word.Length; j++)
        {
            long key = Key(word[j], word[j + 1]);
            pairs[key] -= freq;
            touched.Add(key);
        }
    }

    static int[] Merge(int[] word, int left, int right, int merged)
    {
        var result = new List<int>(word.Length);
        for (int j = 0; j < word.Length; j++)
        {
            if (j + 1 < word.Length && word[j] == left && word[j + 1] == right) { result.Add(merged); j++; }
            else result.Add(word[j]);
        }
        return [.. result];
    }
}
