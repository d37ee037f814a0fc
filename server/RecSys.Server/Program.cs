using RecSys.Server.Cli;

return await CliApp.RunAsync(args);
