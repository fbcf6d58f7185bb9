using KmsCluster.Client.Connection;

namespace KmsCluster.Client.Discovery;

/// <summary>Where a <see cref="KmsClient"/> finds its hosts, and finds them again when the ones it knows fail.
/// <see cref="SrvDiscovery"/> (DNS SRV records, as KMS clients do) is the one KmsCluster ships.</summary>
public interface IHostDiscovery
{
    /// <summary>What is asked, for messages: "_vlmcs._tcp.kms.example (asked 10.0.0.53:53)".</summary>
    string Source { get; }

    /// <summary>The hosts published now, in the order to try them; empty when none is.</summary>
    /// <exception cref="HostDiscoveryException">the source did not answer, or answered with an error.</exception>
    Task<IReadOnlyList<ServerAddress>> FindServersAsync(CancellationToken cancellationToken = default);
}

/// <summary>The discovery source did not answer or answered with an error; the message says which and why.</summary>
public class HostDiscoveryException(string message, Exception? inner = null) : Exception(message, inner);
