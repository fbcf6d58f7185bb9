using KmsCluster.Protocol.Wire;

namespace KmsCluster.Node.Activation;

/// <summary>Cumulative request counters of this node since it started, like a KMS host's
/// "total requests / failed / licensed / unlicensed..." report. Lock-free. The one store of these numbers:
/// /api/v1/stats and the observable instruments of <see cref="Telemetry.RequestMetrics"/> (/metrics, OTLP) both read it.</summary>
public sealed class NodeStats
{
    private long _total;
    private long _failed;
    private long _activated;
    private long _notActivated;
    private readonly long[] _byLicenseState = new long[LicenseStates.Count];
    private readonly long[] _byError = new long[Enum.GetValues<ErrorCode>().Max(c => (int)c) + 1];

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public void RequestReceived() => Interlocked.Increment(ref _total);

    public void LicenseStateReported(LicenseState state) => Interlocked.Increment(ref _byLicenseState[(int)state]);

    public void Answered(bool activated) =>
        Interlocked.Increment(ref activated ? ref _activated : ref _notActivated);

    public void Failed(ErrorCode code)
    {
        Interlocked.Increment(ref _failed);
        if ((int)code < _byError.Length) Interlocked.Increment(ref _byError[(int)code]);
    }

    public long Total => Interlocked.Read(ref _total);
    public long FailedCount => Interlocked.Read(ref _failed);
    public long Activated => Interlocked.Read(ref _activated);
    public long NotActivated => Interlocked.Read(ref _notActivated);

    public long LicenseStateCount(LicenseState state) => Interlocked.Read(ref _byLicenseState[(int)state]);

    public long ErrorCount(ErrorCode code) => (int)code < _byError.Length ? Interlocked.Read(ref _byError[(int)code]) : 0;

    public IReadOnlyDictionary<string, long> ByLicenseState() =>
        Enum.GetValues<LicenseState>().ToDictionary(s => s.Name(), s => Interlocked.Read(ref _byLicenseState[(int)s]));

    public IReadOnlyDictionary<string, long> ByError() =>
        Enum.GetValues<ErrorCode>().ToDictionary(c => c.Name(), c => Interlocked.Read(ref _byError[(int)c]));
}
