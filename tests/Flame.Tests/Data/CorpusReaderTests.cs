using System.Text;
using Flame.Data.Readers;

namespace Flame.Tests.Data;

public class CorpusReaderTests
{
    static List<TextDocument> Read(string path, CorpusReadOptions? options = null, CorpusReadLog? log = null) =>
        CorpusReader.ReadFile(path, options ?? new CorpusReadOptions(), log ?? new CorpusReadLog()).ToList();

    [Fact]
    public void JsonlStreamsTextFieldsWithLineNumbers()
    {
        using var dir = new TempFolder();
        var path = CorpusFiles.Jsonl(dir, "a.jsonl", "{\"id\": 1, \"text\": \"first\\nline\", \"meta\": {\"text\": \"nested\"}}", "", "{\"text\": \"caf\u00e9 \\u00e9\"}");
        var docs = Read(path);
        Assert.Equal(["first\nline", "café é"], docs.Select(d => d.Text));
        Assert.Equal([1L, 3L], docs.Select(d => d.Line));
    }

    [Fact]
    public void ZstdCompressedJsonlAndCustomField()
    {
        using var dir = new TempFolder();
        var path = CorpusFiles.Jsonl(dir, "b.jsonl.zst", "{\"content\": \"one\"}", "{\"content\": \"two\"}");
        Assert.Equal(["one", "two"], Read(path, new CorpusReadOptions("content")).Select(d => d.Text));
        var zstd = dir.File("c.jsonl.zstd");
        File.Copy(path, zstd);
        Assert.Equal(2, Read(zstd, new CorpusReadOptions("content")).Count);
    }

    [Fact]
    public void MalformedLineNamesFileAndLineOrIsSkipped()
    {
        using var dir = new TempFolder();
        var path = CorpusFiles.Jsonl(dir, "bad.jsonl", CorpusFiles.Doc("ok"), "{\"text\": \"unterminated", CorpusFiles.Doc("after"));
        var e = Assert.Throws<UserError>(() => Read(path));
        Assert.StartsWith($"{path}:2: malformed JSON", e.Message);
        var log = new CorpusReadLog();
        Assert.Equal(["ok", "after"], Read(path, new CorpusReadOptions(SkipBad: true), log).Select(d => d.Text));
        Assert.Equal(1, log.Skipped);
        Assert.StartsWith($"{path}:2:", log.Examples[0]);
    }

    [Theory]
    [InlineData("{\"body\": \"x\"}", "no \"text\" field")]
    [InlineData("{\"text\": 5}", "field \"text\" is Number")]
    [InlineData("[\"text\"]", "expected an object")]
    [InlineData("{\"text\": \"a\"} {\"text\": \"b\"}", "malformed JSON")]
    public void BadRecordsAreNamed(string line, string expected)
    {
        using var dir = new TempFolder();
        var path = CorpusFiles.Jsonl(dir, "x.jsonl", line);
        var e = Assert.Throws<UserError>(() => Read(path));
        Assert.Contains($"{path}:1: ", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void InvalidUtf8IsReported()
    {
        using var dir = new TempFolder();
        var path = dir.File("u.jsonl");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("{\"text\": \"a"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}\n")]);
        Assert.Equal($"{path}:1: invalid UTF-8 (use --skip-bad to skip such lines)", Assert.Throws<UserError>(() => Read(path)).Message);
        var txt = dir.File("u.txt");
        File.WriteAllBytes(txt, [0x61, 0xFF, 0x62]);
        Assert.Contains($"{txt}: invalid UTF-8", Assert.Throws<UserError>(() => Read(txt)).Message);
    }

    [Fact]
    public void TruncatedZstdIsReported()
    {
        using var dir = new TempFolder();
        var lines = Enumerable.Range(0, 2000).Select(i => CorpusFiles.Doc($"document number {i} with some text")).ToArray();
        var path = CorpusFiles.Jsonl(dir, "t.jsonl.zst", lines);
        var whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
        var e = Assert.Throws<UserError>(() => Read(path));
        Assert.Contains($"{path}: zstd stream is truncated or corrupt", e.Message);
    }

    [Fact]
    public void OtherCompressionIsRefusedByName()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("a.jsonl.gz"), [0x1F, 0x8B]);
        Assert.Contains("only zstd compression", Assert.Throws<UserError>(() => Read(dir.File("a.jsonl.gz"))).Message);
    }

    [Fact]
    public void PlainTextFileIsOneDocument()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.File("a.txt"), "line one\nline two\n");
        var docs = Read(dir.File("a.txt"));
        Assert.Equal("line one\nline two\n", Assert.Single(docs).Text);
    }

    [Fact]
    public void ParquetTextColumnStreamsRows()
    {
        using var dir = new TempFolder();
        var path = dir.File("d.parquet");
        // Another writer (DuckDB), two row groups, a null cell; Hugging Face's column name.
        DuckDb.Query($"""
            COPY (SELECT CASE WHEN i = 3 THEN NULL ELSE 'doc ' || i END AS text, i AS id FROM range(10000) t(i) ORDER BY i)
            TO {DuckDb.Literal(path)} (FORMAT parquet, ROW_GROUP_SIZE 2048)
            """);
        Assert.True((long)DuckDb.Query($"SELECT count(DISTINCT row_group_id) FROM parquet_metadata({DuckDb.Literal(path)})")[0][0]! > 1);
        Assert.Contains("row 4 has no text", Assert.Throws<UserError>(() => Read(path).ToList()).Message);
        var docs = Read(path, new CorpusReadOptions("text", SkipBad: true));
        Assert.Equal(Enumerable.Range(0, 10000).Where(i => i != 3).Select(i => $"doc {i}"), docs.Select(d => d.Text));
        Assert.Equal(10000, docs[^1].Line);
        var e = Assert.Throws<UserError>(() => Read(path, new CorpusReadOptions("body")));
        Assert.Contains("no column \"body\"", e.Message);
    }

    [Fact]
    public void InputsExpandFoldersAndGlobsInSortedOrder()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("sub"));
        foreach (var name in new[] { "b.jsonl", "a.jsonl.zst", "sub/c.jsonl", "notes.md" }) File.WriteAllText(dir.File(name), "");
        Assert.Equal(new[] { "a.jsonl.zst", "b.jsonl", "sub/c.jsonl" }.Select(dir.File), CorpusInputs.Expand([dir.Path]));
        Assert.Equal(new[] { "a.jsonl.zst", "b.jsonl" }.Select(dir.File), CorpusInputs.Expand([dir.File("*.jsonl*")]));
        Assert.Equal(new[] { "a.jsonl.zst", "b.jsonl", "sub/c.jsonl" }.Select(dir.File), CorpusInputs.Expand([dir.File("**/*.jsonl*")]));
        Assert.Contains("no such file", Assert.Throws<UserError>(() => CorpusInputs.Expand([dir.File("missing.jsonl")])).Message);
        Assert.Contains("matches no files", Assert.Throws<UserError>(() => CorpusInputs.Expand([dir.File("*.parquet")])).Message);
    }
}
