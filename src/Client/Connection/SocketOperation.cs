using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace KmsCluster.Client.Connection;

/// <summary>
/// A <see cref="SocketAsyncEventArgs"/> awaited as a <see cref="ValueTask{SocketError}"/> and reused for one
/// operation after another, on one socket after another: no allocation per operation (the socket's own
/// Task-returning methods make new event args for every new socket). One operation at a time.
/// </summary>
internal sealed class SocketOperation() : SocketAsyncEventArgs(unsafeSuppressExecutionContextFlow: true), IValueTaskSource<SocketError>
{
    // The continuation runs on the thread that completed the operation (a thread-pool thread): no extra hop.
    private ManualResetValueTaskSourceCore<SocketError> _core;

    /// <summary>Connects <paramref name="socket"/> to <see cref="SocketAsyncEventArgs.RemoteEndPoint"/>.</summary>
    public ValueTask<SocketError> ConnectAsync(Socket socket)
    {
        _core.Reset();
        return socket.ConnectAsync(this) ? Pending() : Synchronously();
    }

    /// <summary>Sends what <see cref="SocketAsyncEventArgs.MemoryBuffer"/> holds (or part of it: see
    /// <see cref="SocketAsyncEventArgs.BytesTransferred"/>).</summary>
    public ValueTask<SocketError> SendAsync(Socket socket)
    {
        _core.Reset();
        return socket.SendAsync(this) ? Pending() : Synchronously();
    }

    /// <summary>Receives into <see cref="SocketAsyncEventArgs.MemoryBuffer"/>; 0 bytes transferred: the peer closed.</summary>
    public ValueTask<SocketError> ReceiveAsync(Socket socket)
    {
        _core.Reset();
        return socket.ReceiveAsync(this) ? Pending() : Synchronously();
    }

    private ValueTask<SocketError> Pending() => new(this, _core.Version);

    private ValueTask<SocketError> Synchronously() => new(SocketError);

    protected override void OnCompleted(SocketAsyncEventArgs e) => _core.SetResult(e.SocketError);

    SocketError IValueTaskSource<SocketError>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _core.OnCompleted(continuation, state, token, flags);
}
