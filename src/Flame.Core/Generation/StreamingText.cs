using Flame.Data.Tokenization;

namespace Flame.Generation;

/// <summary>
/// Turns generated tokens into text as they arrive. Byte-level BPE tokens can split a UTF-8 character, so
/// the whole continuation is decoded each time and only text that is complete (no trailing replacement
/// character) is handed out.
/// </summary>
public sealed class StreamingText(TextTokenizer tokenizer)
{
    readonly List<int> _ids = [];
    int _written;

    /// <returns>the new complete text, possibly empty.</returns>
    public string Push(int id)
    {
        _ids.Add(id);
        var text = tokenizer.Decode(_ids);
        if (text.EndsWith('\uFFFD') || text.Length <= _written) return "";
        var fresh = text[_written..];
        _written = text.Length;
        return fresh;
    }

    /// <summary>Whatever is left (an incomplete character at the very end).</summary>
    public string Flush()
    {
        var text = tokenizer.Decode(_ids);
        var rest = text.Length > _written ? text[_written..] : "";
        _written = text.Length;
        return rest;
    }

    public string Text => tokenizer.Decode(_ids);
}
