using System.Net;

namespace KmsCluster.Authority.Configuration;

/// <summary>Where the authority's key and its activation records are (both commands).</summary>
/// <param name="KeyDirectory">--keys: the directory `kms keys authority-init` made (authority.key, authority.pub).</param>
/// <param name="DataDirectory">--data: holds the SQLite store (authority.db); may be null with --db.</param>
/// <param name="PostgresConnection">--db: an Npgsql connection string; the store is PostgreSQL instead of SQLite.</param>
public sealed record StoreOptions(string KeyDirectory, string? DataDirectory, string? PostgresConnection);

/// <summary>`kms-authority serve`.</summary>
/// <param name="Listen">--listen: the address and port to bind (port 0: any free port).</param>
/// <param name="ListenText">The --listen value as given, for messages.</param>
/// <param name="TlsCertificate">--tls-cert: PEM certificate (chain) to serve HTTPS with; null: plain HTTP.</param>
/// <param name="TlsKey">--tls-key: the PEM private key of <paramref name="TlsCertificate"/>.</param>
/// <param name="ReadyFile">--ready-file: written (JSON, atomically) once the listener is bound.</param>
public sealed record ServeOptions(
    StoreOptions Store,
    IPEndPoint Listen,
    string ListenText,
    string? TlsCertificate,
    string? TlsKey,
    string? ReadyFile)
{
    public const string DefaultListen = "127.0.0.1:8443";

    public bool UsesTls => TlsCertificate is not null;
}

/// <summary>`kms-authority answer REQ.json --out CERT.json`: the offline (telephone) activation.</summary>
public sealed record AnswerOptions(StoreOptions Store, string RequestFile, string CertificateFile);

/// <summary>A flag is missing, unknown or malformed; the message is one line.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The process cannot do its work (key directory, store, listener, TLS files); the message is one line.</summary>
public sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>kms-authority's exit codes (README, "Licensing authority").</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The key directory, the store, the listener or the TLS files cannot be used.</summary>
    public const int CannotStart = 1;

    /// <summary>`answer`: the request was refused (invalid, or a limit reached); the reason is on stderr.</summary>
    public const int Refused = 2;

    /// <summary>Unknown command or flag, a missing or malformed value.</summary>
    public const int Usage = 3;
}
