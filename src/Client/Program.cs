using KmsCluster.Client.Cli;

return await KmsCommandLine.RunAsync(args);
