using System.Text.RegularExpressions;
using KmsCluster.Node.Configuration;

namespace KmsCluster.Node.Dns;

/// <summary>
/// A TSIG key (RFC 8945) that signs the node's dynamic updates: the name and algorithm the DNS server knows it
/// by, and the shared secret. Read from a BIND key file (<c>--dns-tsig-file</c>, as <c>tsig-keygen</c> writes
/// it) or from <c>--dns-tsig-name</c>, <c>--dns-tsig-algorithm</c> and <c>--dns-tsig-secret</c>.
/// </summary>
public sealed partial record TsigKey(string Name, string Algorithm, byte[] Secret)
{
    /// <summary>The algorithms BIND and the update library both speak, by their BIND names.</summary>
    public static readonly IReadOnlyList<string> Algorithms =
        ["hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5"];

    /// <summary>Never the secret: this record shows up in logs and the admin API.</summary>
    public override string ToString() => $"{Name} ({Algorithm})";

    internal static TsigKey? Read(NodeSettings settings)
    {
        var file = settings.One(DnsFlags.TsigFile).Trim();
        var name = settings.One(DnsFlags.TsigName).Trim().TrimEnd('.');
        var secret = settings.One(DnsFlags.TsigSecret).Trim();
        if (file.Length > 0)
        {
            if (name.Length > 0 || secret.Length > 0)
            {
                throw new NodeOptionsException(
                    $"{DnsFlags.TsigFile.Flag}: give the key as a file or as {DnsFlags.TsigName.Flag} and {DnsFlags.TsigSecret.Flag}, not both");
            }
            return LoadFile(file);
        }
        if (name.Length == 0 && secret.Length == 0)
        {
            return null;
        }
        if (name.Length == 0 || secret.Length == 0)
        {
            throw new NodeOptionsException(
                $"{DnsFlags.TsigName.Flag} and {DnsFlags.TsigSecret.Flag} go together (or use {DnsFlags.TsigFile.Flag})");
        }
        return Create(name, settings.One(DnsFlags.TsigAlgorithm), secret, DnsFlags.TsigSecret.Flag);
    }

    /// <summary>Reads the one <c>key "NAME" { algorithm ALG; secret "BASE64"; };</c> clause of a BIND key file.</summary>
    internal static TsigKey LoadFile(string path)
    {
        var flag = DnsFlags.TsigFile.Flag;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeOptionsException($"{flag}: cannot read {path}: {e.Message}");
        }
        // Quoted strings are kept whole: a base64 secret may hold "//", which is not a comment there.
        text = Comments().Replace(text, m => m.Value.StartsWith('"') ? m.Value : "");
        var keys = KeyClause().Matches(text);
        if (keys.Count != 1)
        {
            throw new NodeOptionsException(
                $"{flag}: {path} holds {(keys.Count == 0 ? "no" : keys.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} key clauses; expected one: key \"NAME\" {{ algorithm hmac-sha256; secret \"BASE64\"; }};");
        }
        var body = keys[0].Groups["body"].Value;
        var algorithm = AlgorithmStatement().Match(body);
        var secret = SecretStatement().Match(body);
        if (!algorithm.Success || !secret.Success)
        {
            throw new NodeOptionsException($"{flag}: the key in {path} needs both an algorithm and a secret statement");
        }
        return Create(keys[0].Groups["name"].Value.TrimEnd('.'), algorithm.Groups["value"].Value, secret.Groups["value"].Value,
            $"{flag} {path}");
    }

    private static TsigKey Create(string name, string algorithmText, string secretText, string where)
    {
        DnsPublishing.CheckDomainName(name, DnsFlags.TsigName.Flag);
        var algorithm = algorithmText.Trim().ToLowerInvariant();
        if (!Algorithms.Contains(algorithm))
        {
            throw new NodeOptionsException(
                $"{DnsFlags.TsigAlgorithm.Flag}: \"{algorithmText}\" is not one of {string.Join(", ", Algorithms)}");
        }
        byte[] secret;
        try
        {
            secret = Convert.FromBase64String(secretText.Trim());
        }
        catch (FormatException)
        {
            throw new NodeOptionsException($"{where}: the secret is not base64");
        }
        if (secret.Length == 0)
        {
            throw new NodeOptionsException($"{where}: the secret is empty");
        }
        return new TsigKey(name, algorithm, secret);
    }

    [GeneratedRegex(@"""[^""]*""|(#|//)[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    [GeneratedRegex(@"\bkey\s+""?(?<name>[^""\s{]+)""?\s*\{(?<body>[^}]*)\}\s*;")]
    private static partial Regex KeyClause();

    [GeneratedRegex(@"\balgorithm\s+""?(?<value>[A-Za-z0-9.\-]+)""?\s*;")]
    private static partial Regex AlgorithmStatement();

    [GeneratedRegex(@"\bsecret\s+""(?<value>[^""]+)""\s*;")]
    private static partial Regex SecretStatement();
}
