using System.CommandLine;
using Flame.Experiments;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame config keys` and `flame config show`: what an experiment file may say, and what one resolves to.</summary>
public static class ConfigCommands
{
    public static Command Create()
    {
        var keys = new Command("keys", "list every experiment config key with its meaning and default");
        keys.SetAction(_ =>
        {
            var table = new Table().AddColumns("key", "default", "meaning");
            var defaults = new ExperimentConfig();
            foreach (var key in ExperimentKeys.All)
                table.AddRow(Markup.Escape(key.Name), Markup.Escape(ExperimentKeys.Format(key.Get(defaults))), Markup.Escape(key.Description));
            AnsiConsole.Write(table);
            return 0;
        });
        var file = RunCommands.ConfigArgument();
        var set = RunCommands.SetOption();
        var show = new Command("show", "print the fully resolved experiment (defaults, then the file, then --set) as TOML") { file, set };
        show.SetAction(parse =>
        {
            Console.Write(ExperimentConfigFile.ToToml(ExperimentConfigFile.Load(parse.GetValue(file), parse.GetValue(set) ?? [])));
            return 0;
        });
        return new Command("config", "experiment config files") { keys, show };
    }
}
