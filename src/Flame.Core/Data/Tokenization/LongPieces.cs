using System.Text;
using Microsoft.ML.Tokenizers;

namespace Flame.Data.Tokenization;

/// <summary>
/// Encodes texts that hold a very long pre-tokenized piece (a long word, a base64 blob, a run of spaces) with
/// <see cref="MergeQueue"/> for those pieces and the library for the rest, piece by piece in the library's own
/// split; texts without one go to the library whole, untouched. The ids are the library's (tests compare both).
/// </summary>
public abstract class LongPieces
{
    /// <summary>Pieces longer than this many chars go to <see cref="MergeQueue"/>; shorter ones are fast in the library.</summary>
    public const int LongPiece = 256;

    readonly IReadOnlyDictionary<string, int> _specials;

    protected LongPieces(IReadOnlyDictionary<string, int>? specials) => _specials = specials ?? new Dictionary<string, int>();

    /// <summary>A cheap, sufficient test: every piece of a GPT-style split is at most one char plus a run of whitespace or of non-whitespace.</summary>
    public static bool MayHoldOne(string text)
    {
        if (text.Length <= LongPiece) return false;
        int run = 0;
        bool white = false;
        foreach (char c in text)
        {
            bool w = char.IsWhiteSpace(c);
            run = w == white ? run + 1 : 1;
            white = w;
            if (run >= LongPiece / 2) return true;
        }
        return false;
    }

    public IReadOnlyList<int> Encode(Tokenizer inner, string text)
    {
        string normalized = inner.Normalizer?.Normalize(text) ?? text;
        var ids = new List<int>(normalized.Length / 3);
        var splits = inner.PreTokenizer?.PreTokenize(normalized) ?? [(0, normalized.Length)];
        foreach (var (offset, length) in splits)
        {
            var piece = normalized.Substring(offset, length);
            if (_specials.TryGetValue(piece, out int special)) ids.Add(special);
            else if (length > LongPiece) EncodeLong(Encoding.UTF8.GetBytes(piece), ids);
            else ids.AddRange(inner.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
        }
        return ids;
    }

    protected abstract void EncodeLong(byte[] utf8, List<int> output);

    /// <summary>A tokenizer.json BPE model: symbols are GPT-2 byte characters, pairs merge by the merge list's rank.</summary>
    public sealed class Bpe : LongPieces
    {
        readonly int[] _byteIds = new int[256];
        readonly Dictionary<long, (int Rank, int Merged)> _merges = [];
        readonly bool _complete = true;

        public Bpe(BpeModel model, IReadOnlyDictionary<string, int>? specials) : base(specials)
        {
            for (int b = 0; b < 256; b++)
                if (model.Vocabulary.TryGetValue(ByteLevelAlphabet.ByteToChar[b].ToString(), out int id)) _byteIds[b] = id;
                else _complete = false;
            for (int rank = 0; rank < model.Merges.Count; rank++)
            {
                var (l, r) = model.Merges[rank];
                if (model.Vocabulary.TryGetValue(l, out int li) && model.Vocabulary.TryGetValue(r, out int ri) && model.Vocabulary.TryGetValue(l + r, out int m))
                    _merges.TryAdd(((long)li << 32) | (uint)ri, (rank, m));
            }
        }

        /// <summary>Only a vocabulary holding all 256 byte symbols can be merged here; others keep the library's path.</summary>
        public bool Usable => _complete;

        protected override void EncodeLong(byte[] utf8, List<int> output)
        {
            var units = new int[utf8.Length];
            for (int i = 0; i < utf8.Length; i++) units[i] = _byteIds[utf8[i]];
            MergeQueue.Encode(units, new Rule(_merges), output);
        }

        readonly struct Rule(Dictionary<long, (int Rank, int Merged)> merges) : IMergeRule
        {
            public bool TryMerge(int leftId, int rightId, int start, int end, out int rank, out int mergedId)
            {
                bool found = merges.TryGetValue(((long)leftId << 32) | (uint)rightId, out var m);
                (rank, mergedId) = m;
                return found;
            }
        }
    }

    /// <summary>A tiktoken encoding: symbols are byte ranges, a pair merges when its bytes are a token, ranked by that token's id.</summary>
    public sealed class Tiktoken(Lazy<TiktokenRanks> ranks, IReadOnlyDictionary<string, int>? specials) : LongPieces(specials)
    {
        protected override void EncodeLong(byte[] utf8, List<int> output)
        {
            var encoder = ranks.Value; // read on first use, once per tokenizer: most texts never need it
            var units = new int[utf8.Length];
            for (int i = 0; i < utf8.Length; i++) units[i] = encoder.ByteRank(utf8[i]);
            MergeQueue.Encode(units, new Rule(encoder, utf8), output);
        }

        readonly struct Rule(TiktokenRanks encoder, byte[] bytes) : IMergeRule
        {
            public bool TryMerge(int leftId, int rightId, int start, int end, out int rank, out int mergedId)
            {
                bool found = encoder.TryGetRank(bytes.AsSpan(start, end - start), out rank);
                mergedId = rank;
                return found;
            }
        }
    }
}
