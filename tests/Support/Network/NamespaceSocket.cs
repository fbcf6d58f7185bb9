using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace KmsCluster.Testing;

/// <summary>
/// A socket that lives in a network namespace of a <see cref="NetworkLab"/>, made by this process: a new thread
/// enters the namespace (setns acts on the calling thread only) and creates the socket there, which then belongs to
/// that namespace whichever thread uses it. For checking the lab itself without starting a program in it.
/// </summary>
public static class NamespaceSocket
{
    private const int CloneNewNet = 0x40000000;

    /// <summary>A TCP socket in <paramref name="ns"/> (a name <c>ip netns</c> knows).</summary>
    public static Socket CreateTcp(string ns)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(Path.Combine("/run/netns", ns));
                if (setns(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                {
                    throw new NetworkLabException($"setns({ns}) failed with errno {Marshal.GetLastPInvokeError()}: needs root (CAP_SYS_ADMIN)");
                }
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new NetworkLabException($"no socket in namespace {ns}: {failure?.Message}", failure);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setns(int fd, int nstype);
}
