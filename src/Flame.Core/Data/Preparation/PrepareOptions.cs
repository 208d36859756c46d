using Flame.Data.Readers;
using Flame.Data.Tokenization;

namespace Flame.Data.Preparation;

/// <summary>One `flame data prepare` run: corpus files in order, the tokenizer (with its end-of-document id), the output prefix, how to read, and how many threads tokenize.</summary>
public sealed record PrepareOptions(
    IReadOnlyList<string> Inputs,
    TextTokenizer Tokenizer,
    string OutputPrefix,
    CorpusReadOptions Read,
    int Workers = 0,
    int BatchDocuments = 256)
{
    public int WorkerCount => Workers > 0 ? Workers : Environment.ProcessorCount;
}
