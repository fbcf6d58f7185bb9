using System.Net;

namespace KmsCluster.Node.Configuration;

/// <summary>An address to listen on: an IP address, <c>localhost</c> (both loopbacks) or <c>*</c> (every
/// address, IPv4 and IPv6), and a port (0 picks a free one).</summary>
public sealed record ListenEndpoint(string Host, IPAddress? Address, int Port)
{
    public bool IsAnyAddress => Host == "*";

    public bool IsLocalhost => Host == "localhost";

    public static ListenEndpoint Parse(string text, string flag)
    {
        var trimmed = text.Trim();
        var colon = trimmed.LastIndexOf(':');
        if (colon <= 0 || colon == trimmed.Length - 1)
        {
            throw new NodeOptionsException($"{flag}: \"{text}\" is not HOST:PORT (examples: 0.0.0.0:1688, [::]:1688, localhost:1688)");
        }
        var hostPart = trimmed[..colon];
        var portPart = trimmed[(colon + 1)..];
        if (!int.TryParse(portPart, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ||
            port > 65535)
        {
            throw new NodeOptionsException($"{flag}: port \"{portPart}\" in \"{text}\" is not a number from 0 to 65535");
        }
        if (hostPart == "localhost" && port == 0)
        {
            throw new NodeOptionsException($"{flag}: localhost needs a fixed port; for a free port use 127.0.0.1:0 or [::1]:0");
        }
        if (hostPart is "*" or "localhost")
        {
            return new ListenEndpoint(hostPart, null, port);
        }
        var bracketed = hostPart.StartsWith('[') && hostPart.EndsWith(']');
        var addressText = bracketed ? hostPart[1..^1] : hostPart;
        if (!IPAddress.TryParse(addressText, out var address) ||
            (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !bracketed))
        {
            throw new NodeOptionsException(
                $"{flag}: \"{hostPart}\" is not an IP address, localhost or * (write IPv6 addresses in brackets: [::1]:1688)");
        }
        return new ListenEndpoint(hostPart, address, port);
    }

    public override string ToString() => $"{Host}:{Port}";
}
