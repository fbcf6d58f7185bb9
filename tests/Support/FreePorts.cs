using System.Net;
using System.Net.Sockets;

namespace KmsCluster.Testing;

/// <summary>
/// Free TCP ports on 127.0.0.1 for flags that need a fixed port up front (a cluster port that seeds name,
/// a database port), chosen outside the ephemeral range and checked free. A port is never handed out twice in
/// one test process, so two fixtures asking at once cannot get the same one.
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

    /// <summary>Below Linux's ephemeral range (32768-60999): a port the OS picked for us there could be handed to
    /// any outgoing connection (a load generator's, a database client's) before the node binds it, which happened
    /// when a killed node came back on its cluster port. Ports here are only ever taken by a bind.</summary>
    private const int Lowest = 20_000;
    private const int Highest = 32_000;

    private static int Probe()
    {
        while (true)
        {
            var port = Random.Shared.Next(Lowest, Highest);
            try
            {
                // Free now: bound, then released for the caller's process to bind.
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // In use: try another.
            }
        }
    }
}
