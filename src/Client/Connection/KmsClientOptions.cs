namespace KmsCluster.Client.Connection;

/// <summary>Time limits of a <see cref="KmsClient"/>.</summary>
public sealed record KmsClientOptions
{
    /// <summary>Longest wait for one TCP connection to open.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait for the answer to one attempt on one server; then the next server is asked.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest a whole call may take, across every retry and server.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The protocol spoken: 2 (a nonce per request, signed answers) or 1 (unsigned, for hosts started with
    /// --allow-unsigned).</summary>
    public byte ProtocolVersion { get; init; } = KmsCluster.Protocol.Wire.ProtocolConstants.SignedVersion;

    /// <summary>Pause after every server failed once in a row, so a dead cluster is not hammered.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    // Timers and Task.WaitAsync accept at most about 49 days; a limit beyond this one is a mistake.
    private static readonly TimeSpan Longest = TimeSpan.FromMilliseconds(int.MaxValue);

    internal void Validate()
    {
        if (ProtocolVersion is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(ProtocolVersion), ProtocolVersion, "protocol version 1 or 2");
        }
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(RequestTimeout, nameof(RequestTimeout));
        Positive(Deadline, nameof(Deadline));
        if (RetryDelay < TimeSpan.Zero || RetryDelay > Longest)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, $"{nameof(RetryDelay)} must be zero or more and at most {Longest}");
        }
    }

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value > Longest)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be more than zero and at most {Longest}");
        }
    }
}

/// <summary>A <see cref="KmsClient"/> left <paramref name="From"/> for <paramref name="To"/> because of <paramref name="Reason"/>.</summary>
public sealed record KmsFailover(ServerAddress From, ServerAddress To, string Reason);

/// <summary>An answer and the server that gave it.</summary>
public readonly record struct KmsAnswer(ServerAddress Server, ActivationResult Result);
