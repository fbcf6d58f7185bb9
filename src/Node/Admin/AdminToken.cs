using System.Security.Cryptography;
using System.Text;
using KmsCluster.Node.Configuration;
using KmsCluster.Node.Persistence;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Node.Admin;

/// <summary>
/// The secret every admin request but the bare probes must present (<see cref="AdminAuthentication"/>). Only its
/// SHA-256 is kept, and a presented token is compared by hash in constant time, so neither the time of a
/// comparison nor a memory dump of this object says anything about the token.
/// </summary>
public sealed class AdminToken
{
    private readonly byte[] _hash;

    private AdminToken(string token, string source)
    {
        _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        Source = source;
    }

    /// <summary>The file the token came from.</summary>
    public string Source { get; }

    /// <summary>--admin-token-file when given, else the data directory's own token (made at first start).</summary>
    /// <exception cref="NodeOptionsException">the file cannot be read or holds no usable token.</exception>
    public static AdminToken Load(string? file, DataDirectory data)
    {
        if (file is null)
        {
            return new AdminToken(data.LoadOrCreateAdminToken(), data.AdminTokenFile);
        }
        string text;
        try
        {
            text = File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeOptionsException($"{SecurityFlags.AdminTokenFile.Flag}: cannot read {file}: {e.Message}");
        }
        if (!AdminAuth.IsWellFormed(text))
        {
            throw new NodeOptionsException(
                $"{SecurityFlags.AdminTokenFile.Flag}: {file} must hold one token of {AdminAuth.MinimumTokenLength} to 1024 printable characters without spaces");
        }
        return new AdminToken(text, file);
    }

    /// <summary>Whether an Authorization header value is "Bearer" and this token.</summary>
    public bool Accepts(string? authorization)
    {
        if (authorization is null ||
            !authorization.StartsWith(AdminAuth.Scheme + " ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(authorization[(AdminAuth.Scheme.Length + 1)..].Trim()));
        return CryptographicOperations.FixedTimeEquals(presented, _hash);
    }

    public override string ToString() => $"admin token from {Source}";
}
