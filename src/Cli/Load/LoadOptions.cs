using KmsCluster.Client.Connection;
using KmsCluster.Client.Discovery;

namespace KmsCluster.Cli.Load;

public enum LoadMode
{
    /// <summary>Each connection keeps up to <see cref="LoadOptions.Pipeline"/> requests in flight, as fast as the hosts answer.</summary>
    Closed,

    /// <summary>Requests at fixed intervals (<see cref="LoadOptions.Rate"/> per second in total); latency counts from the scheduled time.</summary>
    Open,

    /// <summary>Simulated machines that activate, retry and renew on the hosts' intervals, failing over across servers.</summary>
    Fleet,
}

/// <summary>A checked <c>kms load</c> run.</summary>
public sealed record LoadOptions
{
    public required IReadOnlyList<ServerAddress> Servers { get; init; }

    /// <summary>With --discover: where <see cref="Servers"/> came from; fleet clients look it up again when their
    /// hosts fail.</summary>
    public IHostDiscovery? Discovery { get; init; }
    public LoadMode Mode { get; init; } = LoadMode.Closed;
    public int Connections { get; init; } = 8;
    public int Pipeline { get; init; } = 16;

    /// <summary>Simulated machines (distinct CMIDs) cycled through; in fleet mode, the machines.</summary>
    public int Clients { get; init; } = 100_000;

    /// <summary>Run length; null with <see cref="Requests"/>.</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Stop after this many requests were sent; null with <see cref="Duration"/>.</summary>
    public long? Requests { get; init; }

    /// <summary>The run's first part, not reported: the load runs this long on the same connections and schedule,
    /// then <see cref="Duration"/> is measured, so a fresh generator's start-up and the load's onset do not count
    /// in a steady-state figure. Closed and open loop with a duration only.</summary>
    public TimeSpan? Warmup { get; init; }

    /// <summary>Open loop: requests per second over all connections.</summary>
    public double? Rate { get; init; }

    public long Seed { get; init; } = 1;

    /// <summary>Longest wait for one answer.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Fleet mode: simulated seconds per real second.</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Fleet mode: every machine asks at the start, instead of spreading over the first activation interval.</summary>
    public bool BootStorm { get; init; }

    /// <summary>Each request on a TCP connection of its own (connect, send, answer, close), as KMS clients do;
    /// <see cref="Pipeline"/> must be 1, so <see cref="Connections"/> is the number of requests in flight.</summary>
    public bool ConnectPerRequest { get; init; }

    /// <summary>Protocol spoken: 2 (a nonce per request, signed answers, not checked) or 1 (a host with --allow-unsigned).</summary>
    public byte ProtocolVersion { get; init; } = KmsCluster.Protocol.Wire.ProtocolConstants.SignedVersion;

    /// <summary>How long in-flight requests may still answer after the run stops (duration over or Ctrl+C).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(1);
}
