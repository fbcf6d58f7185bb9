using KmsCluster.Authority.Commands;
using KmsCluster.Authority.Configuration;

try
{
    switch (args.FirstOrDefault())
    {
        case "serve":
            return await ServeCommand.RunAsync(AuthorityCommandLine.ParseServe(args[1..]));
        case "answer":
            return await AnswerCommand.RunAsync(AuthorityCommandLine.ParseAnswer(args[1..]), Console.Out, Console.Error);
        case "--help" or "-h" or "help":
            Console.WriteLine(AuthorityCommandLine.Usage);
            return ExitCodes.Ok;
        case null:
            throw new UsageException("name a command: serve or answer");
        default:
            throw new UsageException($"unknown command \"{args[0]}\" (serve or answer)");
    }
}
catch (UsageException e)
{
    await Console.Error.WriteLineAsync($"kms-authority: {e.Message} (see kms-authority --help)");
    return ExitCodes.Usage;
}
catch (StartupException e)
{
    await Console.Error.WriteLineAsync($"kms-authority: {e.Message}");
    return ExitCodes.CannotStart;
}
