using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Flame.Interop;
using Flame.Tests.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tests.Interop;

/// <summary>The safetensors format byte for byte: round trips per dtype, sharding, and hand-made corrupt files.</summary>
public class SafetensorsTests
{
    [Theory]
    [InlineData(ScalarType.Float32, "F32")]
    [InlineData(ScalarType.Float16, "F16")]
    [InlineData(ScalarType.BFloat16, "BF16")]
    [InlineData(ScalarType.Int64, "I64")]
    [InlineData(ScalarType.Int32, "I32")]
    [InlineData(ScalarType.Float64, "F64")]
    [InlineData(ScalarType.Int8, "I8")]
    [InlineData(ScalarType.Byte, "U8")]
    [InlineData(ScalarType.Bool, "BOOL")]
    public void EachDTypeRoundTripsBitForBit(ScalarType dtype, string name)
    {
        using var dir = new TempFolder();
        manual_seed(3);
        var values = (randn(3, 5, 2) * 50).to(dtype);
        var scalar = tensor(7.0).to(dtype);
        var path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [PendingTensor.Of("a.weight", values), PendingTensor.Of("s", scalar)],
            new Dictionary<string, string> { ["format"] = "pt" });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(name, SafetensorsDType.NameOf(file.Entry("a.weight").DType));
        Assert.Equal([3L, 5, 2], file.Entry("a.weight").Shape);
        Assert.Empty(file.Entry("s").Shape);
        Assert.Equal("pt", file.Metadata["format"]);
        var back = file.Read("a.weight");
        Assert.Equal(dtype, back.dtype);
        Assert.True(back.equal(values).all().item<bool>());
        Assert.True(file.Read("s").equal(scalar).all().item<bool>());
    }

    [Fact]
    public void TheLayoutIsTheFormatsByteForByte()
    {
        // Hand-computed: 8-byte LE header length, JSON header padded with spaces to 8 bytes, then LE data.
        using var dir = new TempFolder();
        var path = dir.File("x.safetensors");
        SafetensorsWriter.Write(path, [PendingTensor.Of("x", tensor(new int[] { 1, 256 }))]);
        var bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal("{\"x\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", header.TrimEnd(' '));
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0, 1, 0, 0 }, bytes[(8 + (int)n)..]);
    }

    [Fact]
    public void AWrittenTensorIsTheContiguousDataOfAView()
    {
        using var dir = new TempFolder();
        var matrix = arange(12, dtype: ScalarType.Float32).view(3, 4);
        var path = dir.File("v.safetensors");
        SafetensorsWriter.Write(path, [PendingTensor.Of("t", matrix.t()), PendingTensor.Of("half", matrix, ScalarType.Float16)]);
        using var file = SafetensorsFile.Open(path);
        Assert.True(file.Read("t").equal(matrix.t()).all().item<bool>());
        Assert.Equal(ScalarType.Float16, file.Entry("half").DType);
        Assert.True(file.Read("half").to(ScalarType.Float32).equal(matrix).all().item<bool>());
    }

    [Fact]
    public void ShardsSplitAtTheLimitAndTheIndexNamesEveryTensor()
    {
        using var dir = new TempFolder();
        var tensors = Enumerable.Range(0, 5).Select(i => PendingTensor.Of($"w{i}", full(10, (float)i))).ToList(); // 40 bytes each
        var files = SafetensorsShards.Write(dir.Path, tensors, maxShardBytes: 100);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
            SafetensorsFolder.IndexFile], files);
        using var index = JsonDocument.Parse(File.ReadAllText(dir.File(SafetensorsFolder.IndexFile)));
        Assert.Equal(200, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        Assert.Equal("model-00003-of-00003.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("w4").GetString());

        using var folder = SafetensorsFolder.Open(dir.Path);
        Assert.Equal(["w0", "w1", "w2", "w3", "w4"], folder.Names);
        for (int i = 0; i < 5; i++) Assert.Equal((float)i, folder.Read($"w{i}")[3].item<float>());

        // Rewritten small, the single file replaces the shards' index.
        SafetensorsShards.Write(dir.Path, tensors, maxShardBytes: 1000);
        Assert.False(File.Exists(dir.File(SafetensorsFolder.IndexFile)));
        using var single = SafetensorsFolder.Open(dir.Path);
        Assert.Equal(5, single.Names.Count);
    }

    /// <summary>A file from a raw header string and a data length, as a corrupt writer would leave it.</summary>
    static string Corrupt(TempFolder dir, string header, int dataBytes, long? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? json.Length));
        json.CopyTo(bytes, 8);
        var path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, 1000L, "overruns the file")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, null, "tensor 'a' data_offsets [0, 8] exceed the 4 data bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, null, "tensors 'a' and 'b' overlap")]
    [InlineData("""{"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}}""", 8, null, "tensor 'a': unknown dtype 'Q7'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, null, "tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets span 8")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, null, "4 unindexed bytes before tensor 'a'")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8, null, "4 bytes after the last tensor")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 8, null, "tensor 'a': data_offsets must be [begin, end]")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, null, "tensor 'a': shape must hold non-negative integers")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", 4, null, "header is not valid JSON")]
    [InlineData("""[1, 2]""", 0, null, "header is not a JSON object")]
    public void CorruptFilesAreUserErrorsNamingTheProblem(string header, int dataBytes, long? declared, string expected)
    {
        using var dir = new TempFolder();
        var path = Corrupt(dir, header, dataBytes, declared);
        var error = Assert.Throws<UserError>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, error.Message);
        Assert.Contains("bad.safetensors", error.Message);
    }

    [Fact]
    public void ATruncatedWrittenFileIsCaught()
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [PendingTensor.Of("first", ones(4)), PendingTensor.Of("second", ones(4))]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);
        var error = Assert.Throws<UserError>(() => SafetensorsFile.Open(path));
        Assert.Contains("tensor 'second'", error.Message);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("too short", Assert.Throws<UserError>(() => SafetensorsFile.Open(path)).Message);
    }

    [Fact]
    public void AnIndexNamingAMissingShardOrTensorIsAUserError()
    {
        using var dir = new TempFolder();
        SafetensorsShards.Write(dir.Path, [PendingTensor.Of("a", ones(4)), PendingTensor.Of("b", ones(4))], maxShardBytes: 16);
        var indexPath = dir.File(SafetensorsFolder.IndexFile);
        var index = File.ReadAllText(indexPath);
        File.WriteAllText(indexPath, index.Replace("\"b\"", "\"c\""));
        Assert.Contains("'c' is listed in model-00002-of-00002.safetensors, which does not hold it",
            Assert.Throws<UserError>(() => SafetensorsFolder.Open(dir.Path)).Message);
        File.WriteAllText(indexPath, index);
        File.Delete(dir.File("model-00002-of-00002.safetensors"));
        Assert.Contains("shard model-00002-of-00002.safetensors is missing", Assert.Throws<UserError>(() => SafetensorsFolder.Open(dir.Path)).Message);
    }
}
