using System.Net;
using System.Net.Sockets;

namespace KmsCluster.Testing;

/// <summary>
/// Free TCP ports on 127.0.0.1 for flags that need a fixed port up front (a cluster port that seeds name,
/// a database port). The OS picks each one; a port is never handed out twice in one test process, so two
/// fixtures asking at once cannot get the same one even if the OS would offer it again after release.
/// </summary>
public static class FreePorts
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>One free port.</summary>
    public static int Next()
    {
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = Probe();
                if (HandedOut.Add(port)) return port;
            }
        }
        throw new InvalidOperationException("no unused free port on 127.0.0.1 after 1000 tries");
    }

    /// <summary><paramref name="count"/> distinct free ports.</summary>
    public static int[] Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var ports = new int[count];
        for (var i = 0; i < count; i++) ports[i] = Next();
        return ports;
    }

    private static int Probe()
    {
        // Bind to port 0, read what the OS chose, release it for the caller's process to bind.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
