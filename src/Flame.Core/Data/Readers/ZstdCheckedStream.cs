using ZstdSharp;

namespace Flame.Data.Readers;

/// <summary>
/// Zstandard decompression that notices truncation: ZstdSharp stops quietly when the input ends in the
/// middle of a frame, so this checks that the last frame was complete and otherwise names the file.
/// </summary>
sealed class ZstdCheckedStream(string path, Stream file) : Stream
{
    readonly DecompressionStream _inner = new(file, 1 << 17, checkEndOfStream: true, leaveOpen: false);

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try { return _inner.Read(buffer); }
        catch (Exception e) when (e is ZstdException or EndOfStreamException or IOException)
        {
            throw new UserError($"{path}: zstd stream is truncated or corrupt ({e.Message})");
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
}
