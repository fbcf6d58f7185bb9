using System.Net;

namespace KmsCluster.Authority.Configuration;

/// <summary>
/// The two commands and their flags. Hand-parsed: a handful of flags, each given once, and every mistake is a
/// <see cref="UsageException"/> with a one-line message naming the flag.
/// </summary>
public static class AuthorityCommandLine
{
    public const string Usage = """
        usage: kms-authority serve --keys DIR (--data DIR | --db CONNECTION) [--data DIR] [--listen ADDRESS:PORT]
                                   [--tls-cert FILE.pem --tls-key FILE.pem] [--ready-file FILE]
               kms-authority answer REQUEST.json --out CERTIFICATE.json --keys DIR (--data DIR | --db CONNECTION)
        Every flag of serve can also be a KMS_* environment variable: KMS_ + the flag's name in capitals, '-' as '_'
        (KMS_KEYS, KMS_DATA, KMS_DB, KMS_LISTEN, KMS_TLS_CERT, KMS_TLS_KEY, KMS_READY_FILE); a flag wins over its variable.
        """;

    /// <summary>The flags of serve, each also settable by its <see cref="EnvironmentVariable"/>.</summary>
    public static IReadOnlyList<string> ServeFlagNames => ServeFlags;

    /// <summary>A flag's environment variable: --tls-cert is KMS_TLS_CERT (the rule kms-node's flags follow).</summary>
    public static string EnvironmentVariable(string flag) => "KMS_" + flag.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    private static readonly string[] StoreFlags = ["--keys", "--data", "--db"];
    private static readonly string[] ServeFlags = [.. StoreFlags, "--listen", "--tls-cert", "--tls-key", "--ready-file"];
    private static readonly string[] AnswerFlags = [.. StoreFlags, "--out"];

    /// <summary>serve's flags, then for each flag not given its KMS_* variable from <paramref name="environment"/>
    /// (default: the process's), so a container sets them all by environment.</summary>
    public static ServeOptions ParseServe(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (flags, positional) = Split(args, ServeFlags);
        if (positional.Count > 0) throw new UsageException($"serve: unexpected argument \"{positional[0]}\"");
        environment ??= ProcessEnvironment();
        foreach (var flag in ServeFlags)
        {
            if (!flags.ContainsKey(flag) && environment.TryGetValue(EnvironmentVariable(flag), out var value) && value.Length > 0)
            {
                flags[flag] = value;
            }
        }
        var store = Store(flags);
        var listenText = flags.GetValueOrDefault("--listen") ?? ServeOptions.DefaultListen;
        var certificate = flags.GetValueOrDefault("--tls-cert");
        var key = flags.GetValueOrDefault("--tls-key");
        if ((certificate is null) != (key is null))
        {
            throw new UsageException("--tls-cert and --tls-key go together (a PEM certificate and its PEM private key)");
        }
        return new ServeOptions(store, ParseListen(listenText), listenText, certificate, key, flags.GetValueOrDefault("--ready-file"));
    }

    public static AnswerOptions ParseAnswer(IReadOnlyList<string> args)
    {
        var (flags, positional) = Split(args, AnswerFlags);
        if (positional.Count != 1)
        {
            throw new UsageException(positional.Count == 0
                ? "answer: name the request file (answer REQUEST.json --out CERTIFICATE.json ...)"
                : $"answer: one request file at a time (got \"{positional[0]}\" and \"{positional[1]}\")");
        }
        var output = flags.GetValueOrDefault("--out") ?? throw new UsageException("answer: --out CERTIFICATE.json is required");
        return new AnswerOptions(Store(flags), positional[0], output);
    }

    /// <summary>ADDRESS:PORT with an IPv4 or [IPv6] address, or localhost:PORT; port 0 to 65535.</summary>
    public static IPEndPoint ParseListen(string text)
    {
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon] : "";
        if (colon > 0 && int.TryParse(text[(colon + 1)..], out var port) && port is >= 0 and <= 65535)
        {
            if (host == "localhost") return new IPEndPoint(IPAddress.Loopback, port);
            if (IPAddress.TryParse(host.Trim('[', ']'), out var address)) return new IPEndPoint(address, port);
        }
        throw new UsageException($"--listen \"{text}\" is not ADDRESS:PORT (e.g. 127.0.0.1:8443, [::1]:8443, 0.0.0.0:0)");
    }

    private static Dictionary<string, string> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);

    private static StoreOptions Store(Dictionary<string, string> flags)
    {
        var keys = flags.GetValueOrDefault("--keys") ?? throw new UsageException("--keys DIR is required (the directory `kms keys authority-init` made)");
        var data = flags.GetValueOrDefault("--data");
        var db = flags.GetValueOrDefault("--db");
        if (data is null && db is null)
        {
            throw new UsageException("--data DIR is required (the SQLite store's directory), or --db with a PostgreSQL connection string");
        }
        return new StoreOptions(keys, data, db);
    }

    private static (Dictionary<string, string> Flags, List<string> Positional) Split(IReadOnlyList<string> args, string[] known)
    {
        var flags = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }
            var (name, value) = arg.IndexOf('=') is var equals and > 0 ? (arg[..equals], arg[(equals + 1)..]) : (arg, null);
            if (!known.Contains(name)) throw new UsageException($"unknown flag {name} (flags: {string.Join(", ", known)})");
            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new UsageException($"{name} needs a value");
                }
                value = args[++i];
            }
            if (value.Length == 0) throw new UsageException($"{name} needs a value");
            if (!flags.TryAdd(name, value)) throw new UsageException($"{name} is given twice");
        }
        return (flags, positional);
    }
}
