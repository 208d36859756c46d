using System.CommandLine;
using Flame.Cli;
using Flame.Cli.Commands;

// The CLI only parses and calls into Flame.Core; each command group lives in Commands/.
var root = new RootCommand("Flame: train and study Mixture-of-Experts language models (FLAME-MoE in .NET)");
root.Subcommands.Add(ModelCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(RunCommands.Create());
root.Subcommands.Add(RunCommands.CreateTrain());
root.Subcommands.Add(ConfigCommands.Create());
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(TokenizerCommands.Create());
root.Subcommands.Add(ScalingCommands.Create());
root.Subcommands.Add(EvalCommands.Create());
root.Subcommands.Add(ExportCommands.Create());
root.Subcommands.Add(ImportCommands.Create());
root.Subcommands.Add(GenerateCommands.Create());
root.Subcommands.Add(TraceCommands.Create());
root.Subcommands.Add(AnalyzeCommands.Create());
root.Subcommands.Add(ReportCommands.Create());
int exitCode = CommandRunner.Run(root, args);
Flame.Distributed.ProcessWorld.Finish(exitCode); // under a launcher: MPI_Finalize, or MPI_Abort after a failure
return exitCode;
