using System.Text.Json;
using System.Text.Json.Nodes;
using Flame.Data;
using Flame.Data.Tokenization;

namespace Flame.Interop;

/// <summary>
/// The tokenizer files of a Hugging Face folder: tokenizer.json as the run used it (a file-based tokenizer
/// or the demo one) and a tokenizer_config.json naming the end-of-document token, so
/// AutoTokenizer.from_pretrained loads it. Built-in tiktoken encodings have no tokenizer.json to copy.
/// </summary>
public static class HfTokenizerFiles
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfig = "tokenizer_config.json";

    /// <returns>the files written, and a note when there was nothing to write.</returns>
    public static (IReadOnlyList<string> Files, string? Note) Write(string folder, string tokenizer, int endOfDocumentId, int maxPositions)
    {
        var source = tokenizer == "demo" ? DemoAssets.TokenizerPath() : File.Exists(tokenizer) ? tokenizer : null;
        if (source is null)
            return ([], $"tokenizer '{tokenizer}' is a built-in tiktoken encoding without a tokenizer.json; load it in Python with tiktoken");
        var target = Path.Combine(folder, TokenizerJson);
        Output.OutputFiles.Copy(source, target);

        var model = TokenizerJsonReader.Read(source).Model;
        var eod = model.SpecialTokens.Concat(model.Vocabulary).FirstOrDefault(t => t.Value == endOfDocumentId).Key ?? TokenizerLoader.EndOfText;
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["bos_token"] = eod,
            ["eos_token"] = eod,
            ["unk_token"] = eod,
            ["model_max_length"] = maxPositions,
            ["clean_up_tokenization_spaces"] = false,
        };
        Output.OutputFiles.WriteText(Path.Combine(folder, TokenizerConfig), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return ([TokenizerJson, TokenizerConfig], null);
    }
}
