namespace Flame.Data.Readers;

/// <summary>Splits a byte stream into lines without decoding it, so a line's bytes can be checked and parsed in place.</summary>
public sealed class Utf8LineReader(Stream stream)
{
    byte[] _buffer = new byte[1 << 20];
    int _start, _end;
    bool _eof;

    /// <summary>Bytes consumed so far, newlines included (for MB/s).</summary>
    public long BytesRead { get; private set; }

    /// <summary>The next line without its '\n' (and without a trailing '\r'); false at the end of the stream.</summary>
    public bool TryReadLine(out ReadOnlyMemory<byte> line)
    {
        int scanFrom = _start;
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', scanFrom, _end - scanFrom);
            if (newline >= 0)
            {
                line = Trim(_start, newline);
                BytesRead += newline + 1 - _start;
                _start = newline + 1;
                return true;
            }
            if (_eof)
            {
                if (_start == _end) { line = default; return false; }
                line = Trim(_start, _end);
                BytesRead += _end - _start;
                _start = _end;
                return true;
            }
            scanFrom = _end - _start;
            Fill();
        }
    }

    ReadOnlyMemory<byte> Trim(int from, int to)
    {
        if (to > from && _buffer[to - 1] == (byte)'\r') to--;
        return _buffer.AsMemory(from, to - from);
    }

    void Fill()
    {
        // Keep the unfinished line at the front; grow when one line outgrows the buffer.
        int pending = _end - _start;
        if (pending == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        Buffer.BlockCopy(_buffer, _start, _buffer, 0, pending);
        _start = 0;
        _end = pending;
        int read = stream.Read(_buffer, _end, _buffer.Length - _end);
        if (read == 0) _eof = true;
        _end += read;
    }
}
