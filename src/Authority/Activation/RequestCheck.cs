using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Authority.Activation;

/// <summary>The checks a request passes before the ledger sees it; each problem is one line for the answer.</summary>
public static class RequestCheck
{
    /// <summary>How far a request's requestedAt may be from the authority's clock, either way (the model's 4 hours).</summary>
    public static readonly TimeSpan ClockTolerance = HostCertificate.ClockTolerance;

    /// <summary>
    /// Proof of possession (the request is signed by the host key it names), the host key signed by this
    /// authority, not expired, and requestedAt within <see cref="ClockTolerance"/> of <paramref name="now"/>, in
    /// that order; null when all hold.
    /// </summary>
    public static string? Problem(HostActivationRequest request, TrustedAuthority self, DateTimeOffset now)
    {
        var key = request.Key;
        if (!request.IsSignedByItsHost())
        {
            return "the request is not signed by the host public key it names (no proof of possession: forged or altered)";
        }
        if (key.Authority != self.Fingerprint)
        {
            return $"host key {key.KeyId} was issued by authority {key.Authority}, not by this authority ({self.Fingerprint})";
        }
        if (!self.HasSigned(key))
        {
            return $"host key {key.KeyId} names this authority but its signature is not this authority's (forged or altered)";
        }
        if (key.ExpiresAt is { } expires && expires <= now)
        {
            return $"host key {key.KeyId} expired at {HostKey.FormatTime(expires)}";
        }
        var skew = request.RequestedAt - now;
        if (skew.Duration() > ClockTolerance)
        {
            return $"requestedAt {HostKey.FormatTime(request.RequestedAt)} is {skew.Duration().TotalMinutes:0} minutes " +
                   $"{(skew < TimeSpan.Zero ? "behind" : "ahead of")} the authority's clock ({HostKey.FormatTime(now)}); " +
                   $"at most {ClockTolerance.TotalHours:0} hours either way";
        }
        return null;
    }
}
