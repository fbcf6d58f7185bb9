using KmsCluster.Cli;

return await KmsCommandLine.RunAsync(args);
