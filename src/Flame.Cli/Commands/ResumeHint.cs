using Flame.Experiments;

namespace Flame.Cli.Commands;

/// <summary>
/// The command an interrupted `flame run|train` prints to continue it: the run folder with --resume (its config.toml
/// holds the experiment, <see cref="ResumePolicy"/>) plus the given overrides a resume may repeat, quoted for a POSIX shell.
/// </summary>
public static class ResumeHint
{
    public static string Command(string command, string runDirectory, IEnumerable<string> overrides) =>
        string.Join(" ", new[] { "flame", command, "--out", ShellWord(runDirectory), "--resume" }
            .Concat(overrides.Where(o => o.IndexOf('=') is > 0 and var eq && ResumePolicy.MayChange(o[..eq].Trim()))
                .SelectMany(o => new[] { "--set", ShellWord(o) })));

    /// <summary>A word the shell reads back unchanged: as it is when plain, else in single quotes (a quote inside as '\'').</summary>
    public static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "_-./=:,+@%".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}
