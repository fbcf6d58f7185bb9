using System.Net.Sockets;

namespace KmsCluster.Client.Connection;

/// <summary>Why an exchange of a <see cref="ConnectPerRequestClient"/> brought no answer.</summary>
public enum ExchangeFailure : byte
{
    /// <summary>Answered.</summary>
    None,

    /// <summary>Connecting: the host refused the connection (nothing listens there).</summary>
    ConnectRefused,

    /// <summary>Connecting: the connection was reset before it opened (e.g. the host's accept queue overflowed).</summary>
    ConnectReset,

    /// <summary>Connecting: no connection within the connect timeout.</summary>
    ConnectTimeout,

    /// <summary>Connecting: no local port was free (the ephemeral ports are used up, e.g. by TIME_WAIT).</summary>
    ConnectNoLocalPort,

    /// <summary>Connecting failed otherwise (unreachable network, a name that does not resolve, ...).</summary>
    ConnectOther,

    /// <summary>Connected, but no answer within the request timeout.</summary>
    AnswerTimeout,

    /// <summary>Connected, but the host closed the connection before its answer.</summary>
    Closed,

    /// <summary>Connected, but sending or receiving failed (e.g. reset by the host).</summary>
    ConnectionLost,

    /// <summary>The host's bytes were not an answer frame.</summary>
    ProtocolBroken,

    /// <summary>The caller's cancellation token fired.</summary>
    Cancelled,

    /// <summary>The client was disposed during the exchange.</summary>
    Aborted,
}

/// <summary>Told of every connection a <see cref="ConnectPerRequestClient"/> opens or fails to open, on the thread
/// of the exchange; must be cheap and must not throw.</summary>
public interface IConnectObserver
{
    /// <param name="stopwatchTicks">How long connecting took, in <see cref="System.Diagnostics.Stopwatch"/> ticks.</param>
    void Connected(long stopwatchTicks);

    /// <param name="failure">One of the connect failures (<see cref="ExchangeFailures.IsConnectFailure"/>).</param>
    void ConnectFailed(ExchangeFailure failure);
}

/// <summary>What one exchange on its own connection brought: the answer, or why none came.</summary>
/// <param name="SocketError">The socket's error when one caused the failure, for messages.</param>
public readonly record struct PerRequestOutcome(ActivationResult Result, ExchangeFailure Failure, SocketError SocketError = SocketError.Success)
{
    public bool IsAnswered => Failure == ExchangeFailure.None;

    /// <summary>The answer, or the exception a <see cref="KmsConnection"/> caller would see in its place.</summary>
    /// <exception cref="KmsConnectionException">no connection, or it failed before the answer.</exception>
    /// <exception cref="TimeoutException">no answer within <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">cancelled by <paramref name="cancellationToken"/>.</exception>
    /// <exception cref="ObjectDisposedException">the client was disposed.</exception>
    internal ActivationResult ResultOrThrow(ServerAddress server, TimeSpan connectTimeout, TimeSpan timeout, CancellationToken cancellationToken) =>
        Failure switch
        {
            ExchangeFailure.None => Result,
            ExchangeFailure.Cancelled => throw new OperationCanceledException(cancellationToken),
            ExchangeFailure.Aborted => throw new ObjectDisposedException(nameof(ConnectPerRequestClient)),
            ExchangeFailure.AnswerTimeout => throw new TimeoutException($"no answer from {server} within {timeout.TotalSeconds:0.#} s"),
            ExchangeFailure.ConnectTimeout => throw new KmsConnectionException(
                $"cannot connect to {server}: no answer within {connectTimeout.TotalSeconds:0.#} s"),
            _ when Failure.IsConnectFailure() => throw new KmsConnectionException($"cannot connect to {server}: {Describe()}"),
            ExchangeFailure.Closed => throw new KmsConnectionException($"{server} closed the connection"),
            ExchangeFailure.ProtocolBroken => throw new KmsConnectionException($"{server} broke the protocol"),
            _ => throw new KmsConnectionException($"connection to {server} failed: {Describe()}"),
        };

    private string Describe() => SocketError == SocketError.Success ? Failure.ToString() : new SocketException((int)SocketError).Message;
}

public static class ExchangeFailures
{
    /// <summary>Failed while connecting: nothing was sent.</summary>
    public static bool IsConnectFailure(this ExchangeFailure failure) =>
        failure is >= ExchangeFailure.ConnectRefused and <= ExchangeFailure.ConnectOther;

    /// <summary>The name reports use for a connect failure: refused, reset, timeout, no-local-port or other.</summary>
    public static string ConnectFailureName(this ExchangeFailure failure) => failure switch
    {
        ExchangeFailure.ConnectRefused => "refused",
        ExchangeFailure.ConnectReset => "reset",
        ExchangeFailure.ConnectTimeout => "timeout",
        ExchangeFailure.ConnectNoLocalPort => "no-local-port",
        _ => "other",
    };
}
