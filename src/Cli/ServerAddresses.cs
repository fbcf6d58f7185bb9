using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli;

/// <summary>Parses HOST[:PORT] from the command line; a bad address is a usage error (exit code 4).</summary>
internal static class ServerAddresses
{
    public static ServerAddress ParseOrThrow(string text, int defaultPort = ProtocolConstants.DefaultPort) =>
        ServerAddress.TryParse(text, defaultPort, out var address, out var error) ? address : throw new UsageException(error);
}

/// <summary>The command line itself is wrong; exit code 4.</summary>
public sealed class UsageException(string message) : Exception(message);
