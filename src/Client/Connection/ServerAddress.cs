using System.Globalization;
using System.Net;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Connection;

/// <summary>HOST[:PORT] as a user writes it: a name, an IPv4 address or a bracketed IPv6 address.</summary>
public sealed record ServerAddress(string Host, int Port)
{
    public static bool TryParse(string text, int defaultPort, out ServerAddress address, out string error)
    {
        address = null!;
        var trimmed = text.Trim();
        string host;
        var port = defaultPort;
        if (trimmed.StartsWith('['))
        {
            var close = trimmed.IndexOf(']');
            if (close < 0)
            {
                error = $"\"{text}\": missing ] after an IPv6 address";
                return false;
            }
            host = trimmed[1..close];
            var rest = trimmed[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !TryPort(rest[1..], out port)))
            {
                error = $"\"{text}\": expected [IPv6]:PORT";
                return false;
            }
        }
        else
        {
            var colon = trimmed.LastIndexOf(':');
            if (colon >= 0 && trimmed.IndexOf(':') != colon)
            {
                error = $"\"{text}\": write IPv6 addresses in brackets, e.g. [::1]:1688";
                return false;
            }
            host = colon >= 0 ? trimmed[..colon] : trimmed;
            if (colon >= 0 && !TryPort(trimmed[(colon + 1)..], out port))
            {
                error = $"\"{text}\": port must be a number from 1 to 65535";
                return false;
            }
        }
        if (host.Length == 0 || (host.Contains(':') && !IPAddress.TryParse(host, out _)))
        {
            error = $"\"{text}\" is not HOST:PORT";
            return false;
        }
        address = new ServerAddress(host, port);
        error = "";
        return true;
    }

    /// <exception cref="FormatException"><paramref name="text"/> is not HOST[:PORT].</exception>
    public static ServerAddress Parse(string text, int defaultPort = ProtocolConstants.DefaultPort) =>
        TryParse(text, defaultPort, out var address, out var error) ? address : throw new FormatException(error);

    private static bool TryPort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;

    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
