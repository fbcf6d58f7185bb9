using Akka.Event;
using Akka.Remote.Hosting;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Clustering;

/// <summary>
/// Akka.Remote's DotNetty transport over TLS with mutual authentication (Akka.NET 1.5.55 and later): every
/// connection, inbound and outbound, presents this node's certificate and requires the peer's, and the one
/// validation callback the transport runs on both sides accepts a peer only if its certificate chains to
/// --cluster-tls-ca (<see cref="ClusterTlsSettings.Problem"/>). Host names are not compared: members are addressed
/// by IP and hold certificates of their own, so any certificate the CA issued is a member's credential.
/// </summary>
public static class ClusterTls
{
    /// <summary>The scheme of member addresses: Akka.Remote names TLS addresses akka.ssl.tcp, so seeds must too.</summary>
    public static string Protocol(ClusterTlsSettings? tls) => tls is null ? "akka.tcp" : "akka.ssl.tcp";

    public static RemoteOptions WithTls(this RemoteOptions remote, ClusterTlsSettings? tls)
    {
        if (tls is null)
        {
            return remote;
        }
        remote.EnableSsl = true;
        remote.Ssl = new SslOptions
        {
            X509Certificate = tls.Certificate,
            SuppressValidation = false,
            RequireMutualAuthentication = true,
            ValidateCertificateHostname = false,
            CustomValidator = (certificate, chain, peer, _, log) =>
            {
                // The system's verdict (errors) is ignored on purpose: it trusts the machine's roots, not this CA.
                if (tls.Problem(certificate, chain) is not { } problem)
                {
                    return true;
                }
                log.Warning("cluster TLS: refused {0}: {1} ({2})", peer, problem, certificate?.Subject ?? "no certificate");
                return false;
            },
        };
        return remote;
    }
}
