using System.CommandLine;

namespace Flame.Cli.Commands;

/// <summary>
/// The option naming what a command writes: `--out` in every command, the spelling help shows. `--output` is
/// accepted too, as a hidden alias, so scripts that spell it so keep working. Messages about the path name the
/// spelling the user typed (<see cref="Spelling"/>). Added to a command like any option (`new Command(...) { out }`).
/// </summary>
public sealed class OutOption
{
    public const string Name = "--out";
    public const string Alias = "--output";

    readonly Option<string?> _out;
    readonly Option<string?> _alias;
    readonly bool _required;

    /// <param name="description">what the path is and what is written there</param>
    /// <param name="helpName">what help calls the value: DIR, FILE, PREFIX, ...</param>
    /// <param name="required">refuse the command without it (a parse error, as for any required option)</param>
    public OutOption(string description, string helpName = "DIR", bool required = false)
    {
        _out = new Option<string?>(Name) { Description = description, HelpName = helpName };
        _alias = new Option<string?>(Alias) { Hidden = true, HelpName = helpName };
        _required = required;
        if (required) _out.Description += " (required)";
    }

    /// <summary>The path given with either spelling; null when neither was given.</summary>
    public string? Get(ParseResult parse) => parse.GetValue(_out) ?? parse.GetValue(_alias);

    /// <summary>"--out", or "--output" when the user spelled it so: for messages about the path.</summary>
    public string Spelling(ParseResult parse) => parse.GetResult(_alias) is not null ? Alias : Name;

    internal void AddTo(Command command)
    {
        command.Options.Add(_out);
        command.Options.Add(_alias);
        command.Validators.Add(result =>
        {
            bool given = result.GetResult(_out) is not null, aliasGiven = result.GetResult(_alias) is not null;
            if (given && aliasGiven) result.AddError($"{Alias} is another spelling of {Name}; give it once");
            else if (_required && !given && !aliasGiven) result.AddError($"Option '{Name}' is required.");
        });
    }
}

public static class OutOptionCommandExtensions
{
    /// <summary>Lets a command's collection initializer take an <see cref="OutOption"/> beside its other options.</summary>
    public static void Add(this Command command, OutOption option) => option.AddTo(command);
}
