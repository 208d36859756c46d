using System.Text;
using Flame.Data.Indexed;

namespace Flame.Tests.Data;

/// <summary>
/// The MMIDIDX layout byte by byte, as Megatron-LM's indexed_dataset.py (_IndexWriter / _IndexReader)
/// writes and reads it: magic "MMIDIDX\0\0", u64 version 1, u8 dtype code, u64 sequence count,
/// u64 document count, int32 lengths, int64 byte pointers, int64 document indices (leading 0), little-endian.
/// </summary>
public class IndexedDatasetFormatTests
{
    // Two documents: [5, 7, 0] and [65535, 0] as uint16 (Megatron code 8).
    static byte[] ExpectedIdx() =>
    [
        (byte)'M', (byte)'M', (byte)'I', (byte)'D', (byte)'I', (byte)'D', (byte)'X', 0, 0,
        1, 0, 0, 0, 0, 0, 0, 0,          // version 1
        8,                               // dtype code: uint16
        2, 0, 0, 0, 0, 0, 0, 0,          // 2 sequences
        3, 0, 0, 0, 0, 0, 0, 0,          // 3 document indices: 0, 1, 2
        3, 0, 0, 0, 2, 0, 0, 0,          // lengths (int32): 3, 2
        0, 0, 0, 0, 0, 0, 0, 0,          // pointers (int64): 0,
        6, 0, 0, 0, 0, 0, 0, 0,          //                   3 tokens * 2 bytes
        0, 0, 0, 0, 0, 0, 0, 0,          // document indices (int64): 0,
        1, 0, 0, 0, 0, 0, 0, 0,          //                           1,
        2, 0, 0, 0, 0, 0, 0, 0,          //                           2
    ];

    static byte[] ExpectedBin() => [5, 0, 7, 0, 0, 0, 0xFF, 0xFF, 0, 0];

    [Fact]
    public void WriterProducesMegatronBytesExactly()
    {
        using var dir = new TempFolder();
        var prefix = dir.File("ds");
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16))
        {
            writer.AddDocument([5, 7, 0]);
            writer.AddDocument([65535, 0]);
            writer.Complete();
        }
        Assert.Equal(ExpectedIdx(), File.ReadAllBytes(prefix + ".idx"));
        Assert.Equal(ExpectedBin(), File.ReadAllBytes(prefix + ".bin"));
        Assert.Equal(["ds.bin", "ds.idx"], dir.Entries());
    }

    [Fact]
    public void ReaderReadsHandBuiltMegatronFiles()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("m.idx"), ExpectedIdx());
        File.WriteAllBytes(dir.File("m.bin"), ExpectedBin());
        using var reader = IndexedDatasetReader.Open(dir.File("m"));
        Assert.Equal(IndexedDType.UInt16, reader.DType);
        Assert.Equal(2, reader.SequenceCount);
        Assert.Equal(2, reader.DocumentCount);
        Assert.Equal(5, reader.TokenCount);
        Assert.Equal([5, 7, 0], reader.GetSequence(0));
        Assert.Equal([65535, 0], reader.GetSequence(1));
        Assert.Equal(6, reader.SequencePointer(1));
        Assert.Equal(2, reader.DocumentIndex(2));
    }

    [Fact]
    public void Int32DatasetsRoundTripLargeIds()
    {
        using var dir = new TempFolder();
        var prefix = dir.File("big");
        var docs = new[] { new[] { 100_000, 50_276, 0 }, new[] { 3 }, Array.Empty<int>(), new[] { 199_999, 1, 2, 0 } };
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDTypes.BestFitting(200_019)))
        {
            foreach (var d in docs) writer.AddDocument(d);
            writer.Complete();
        }
        var idx = File.ReadAllBytes(prefix + ".idx");
        Assert.Equal(4, idx[17]); // int32's Megatron code
        Assert.Equal(34 + 4 * 4 + 4 * 8 + 5 * 8, idx.Length);
        using var reader = IndexedDatasetReader.Open(prefix + ".bin"); // PREFIX.bin is accepted too
        Assert.Equal(docs.Length, reader.SequenceCount);
        for (int i = 0; i < docs.Length; i++) Assert.Equal(docs[i], reader.GetSequence(i));
        var middle = new int[2];
        reader.ReadTokens(3, 1, middle);
        Assert.Equal([1, 2], middle);
    }

    [Theory]
    [InlineData(50_277, IndexedDType.UInt16)]   // GPT-NeoX
    [InlineData(65_499, IndexedDType.UInt16)]
    [InlineData(65_500, IndexedDType.Int32)]
    [InlineData(100_277, IndexedDType.Int32)]  // cl100k_base
    public void DTypeFollowsMegatronsChoice(int vocab, IndexedDType expected) => Assert.Equal(expected, IndexedDTypes.BestFitting(vocab));

    [Fact]
    public void IdThatDoesNotFitIsRefused()
    {
        using var dir = new TempFolder();
        using var writer = new IndexedDatasetWriter(dir.File("x"), IndexedDType.UInt16);
        Assert.Throws<UserError>(() => writer.AddDocument([65536]));
    }

    [Fact]
    public void UnfinishedWriteLeavesNothingAndKeepsTheOldDataset()
    {
        using var dir = new TempFolder();
        var prefix = dir.File("ds");
        File.WriteAllBytes(prefix + ".idx", ExpectedIdx());
        File.WriteAllBytes(prefix + ".bin", ExpectedBin());
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16))
            writer.AddDocument([1, 2, 3]); // disposed without Complete, as when prepare fails
        Assert.Equal(["ds.bin", "ds.idx"], dir.Entries());
        Assert.Equal(ExpectedIdx(), File.ReadAllBytes(prefix + ".idx"));
        Assert.Equal(ExpectedBin(), File.ReadAllBytes(prefix + ".bin"));
    }
}
