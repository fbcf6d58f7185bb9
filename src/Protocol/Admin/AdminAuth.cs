namespace KmsCluster.Protocol.Admin;

/// <summary>
/// How a client proves it may use the admin API: <c>Authorization: Bearer TOKEN</c>. A node keeps TOKEN in
/// <see cref="TokenFile"/> of its data directory (made at first start, owner-only) unless --admin-token-file
/// names another file; <c>kms</c> reads the same file.
/// </summary>
public static class AdminAuth
{
    /// <summary>The token's file name in a node's data directory.</summary>
    public const string TokenFile = "admin-token";

    public const string Scheme = "Bearer";

    /// <summary>A token given by an operator must not be guessable in a few tries, and must fit in a header.</summary>
    public const int MinimumTokenLength = 16;

    public static string AuthorizationValue(string token) => $"{Scheme} {token}";

    /// <summary>16 to 1024 printable ASCII characters without spaces.</summary>
    public static bool IsWellFormed(string token) =>
        token.Length is >= MinimumTokenLength and <= 1024 && token.All(c => c is > ' ' and < '\u007f');
}
