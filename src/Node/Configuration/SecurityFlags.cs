namespace KmsCluster.Node.Configuration;

/// <summary>The kms-node flags that secure its admin API and its cluster traffic; part of <see cref="NodeFlags.All"/>.</summary>
public static class SecurityFlags
{
    public static readonly NodeFlag AdminTokenFile = new("admin-token-file", "FILE", "",
        "file holding the admin API's bearer token (e.g. a mounted secret); default: DATA/admin-token, made at first start");
    public static readonly NodeFlag ClusterTlsCert = new("cluster-tls-cert", "FILE", "",
        "this node's certificate with its private key (PEM, or PKCS#12 without password) for TLS between cluster members; needs --cluster-tls-ca");
    public static readonly NodeFlag ClusterTlsCa = new("cluster-tls-ca", "FILE", "",
        "PEM certificate(s) of the CA that issues the members' certificates: peers must present one it issued");

    public static readonly IReadOnlyList<NodeFlag> All = [AdminTokenFile, ClusterTlsCert, ClusterTlsCa];
}
