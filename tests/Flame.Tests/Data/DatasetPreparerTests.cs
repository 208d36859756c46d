using Flame.Data.Indexed;
using Flame.Data.Preparation;
using Flame.Data.Readers;
using Flame.Data.Tokenization;

namespace Flame.Tests.Data;

public class DatasetPreparerTests
{
    static readonly TextTokenizer Demo = TokenizerLoader.Load("demo");

    static PrepareResult Prepare(TempFolder dir, IReadOnlyList<string> inputs, bool skipBad = false, int workers = 2) =>
        DatasetPreparer.Run(new PrepareOptions(inputs, Demo, dir.File("out"), new CorpusReadOptions(SkipBad: skipBad), workers, BatchDocuments: 3));

    [Fact]
    public void DocumentsRoundTripInInputOrderWithEod()
    {
        using var dir = new TempFolder();
        var texts = Enumerable.Range(0, 20).Select(i => $"Document {i}: " + string.Join(' ', Enumerable.Repeat("the jury said", i % 4 + 1))).ToArray();
        var a = CorpusFiles.Jsonl(dir, "a.jsonl.zst", texts[..12].Select(CorpusFiles.Doc).ToArray());
        var b = CorpusFiles.Jsonl(dir, "b.jsonl", texts[12..].Select(CorpusFiles.Doc).ToArray());
        var result = Prepare(dir, [a, b]);
        Assert.Equal(20, result.Documents);
        Assert.Equal(IndexedDType.UInt16, result.DType);
        using var data = IndexedDatasetReader.Open(dir.File("out"));
        Assert.Equal(20, data.DocumentCount);
        for (int i = 0; i < texts.Length; i++)
        {
            var tokens = data.GetSequence(i);
            Assert.Equal(Demo.EncodeDocument(texts[i]), tokens);
            Assert.Equal(0, tokens[^1]);
            Assert.Equal(texts[i], Demo.Decode(tokens[..^1]));
        }
        Assert.Equal(result.Tokens, data.TokenCount);
    }

    [Fact]
    public void OutputDoesNotDependOnThreadCount()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "c.jsonl", Enumerable.Range(0, 50).Select(i => CorpusFiles.Doc($"text number {i} " + new string('x', i))).ToArray());
        Prepare(dir, [input], workers: 1);
        var one = File.ReadAllBytes(dir.File("out.bin"));
        Prepare(dir, [input], workers: 4);
        Assert.Equal(one, File.ReadAllBytes(dir.File("out.bin")));
    }

    [Fact]
    public void BadLineStopsTheRunAndLeavesNoDataset()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "bad.jsonl", Enumerable.Range(0, 10).Select(i => CorpusFiles.Doc($"doc {i}")).Append("{oops").Append(CorpusFiles.Doc("tail")).ToArray());
        var e = Assert.Throws<UserError>(() => Prepare(dir, [input]));
        Assert.StartsWith($"{input}:11: malformed JSON", e.Message);
        Assert.Equal(["bad.jsonl"], dir.Entries()); // no out.bin, out.idx or temporary files

        var result = Prepare(dir, [input], skipBad: true);
        Assert.Equal(11, result.Documents);
        Assert.Equal(1, result.Skipped);
    }

    [Fact]
    public void EmptyDocumentsAreSkippedAndCounted()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "e.jsonl", CorpusFiles.Doc("fine"), CorpusFiles.Doc("  "), CorpusFiles.Doc(""), CorpusFiles.Doc("also fine"));
        var result = Prepare(dir, [input]);
        Assert.Equal((2L, 2L, 0L), (result.Documents, result.EmptySkipped, result.Skipped));
        var onlyEmpty = CorpusFiles.Jsonl(dir, "only-empty.jsonl", CorpusFiles.Doc(""), CorpusFiles.Doc("\n"));
        Assert.Contains("every document of the input is empty (2)", Assert.Throws<UserError>(() => Prepare(dir, [onlyEmpty])).Message);
    }

    [Fact]
    public void TruncatedZstdFailsWithoutReplacingAnOlderDataset()
    {
        using var dir = new TempFolder();
        var good = CorpusFiles.Jsonl(dir, "good.jsonl", CorpusFiles.Doc("an older dataset"));
        Prepare(dir, [good]);
        var before = File.ReadAllBytes(dir.File("out.idx"));
        var lines = Enumerable.Range(0, 3000).Select(i => CorpusFiles.Doc($"document {i} of a longer file")).ToArray();
        var cut = CorpusFiles.Jsonl(dir, "cut.jsonl.zst", lines);
        var bytes = File.ReadAllBytes(cut);
        File.WriteAllBytes(cut, bytes[..(bytes.Length * 2 / 3)]);
        Assert.Contains("truncated or corrupt", Assert.Throws<UserError>(() => Prepare(dir, [cut])).Message);
        Assert.Equal(before, File.ReadAllBytes(dir.File("out.idx")));
        Assert.Equal(["cut.jsonl.zst", "good.jsonl", "out.bin", "out.idx"], dir.Entries());
    }

    [Fact]
    public void CancelledRunLeavesNoDataset()
    {
        using var dir = new TempFolder();
        var input = CorpusFiles.Jsonl(dir, "c.jsonl", Enumerable.Range(0, 100).Select(i => CorpusFiles.Doc($"doc {i}")).ToArray());
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => DatasetPreparer.Run(
            new PrepareOptions([input], Demo, dir.File("out"), new CorpusReadOptions(), 2, 3), null, cancel.Token));
        Assert.Equal(["c.jsonl"], dir.Entries());
    }
}
