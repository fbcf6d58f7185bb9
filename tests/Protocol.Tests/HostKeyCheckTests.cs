using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Protocol.Tests;

/// <summary>The verdict on a host key, one problem at a time: each key that is wrong in exactly one way is refused
/// for that reason, with the group known only once the key is genuine, and every problem has its stable name.</summary>
public sealed class HostKeyCheckTests : IDisposable
{
    private const string WindowsGroup = "Windows Server 2025 volume licence";
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly ProductCatalog Catalog = ProductCatalog.Default;
    private static readonly HostOperatingSystem Server2025 = Catalog.FindHostOs("Windows Server 2025")!;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kms-check-{Guid.NewGuid():N}");
    private readonly LicensingAuthority _authority;
    private readonly LicensingAuthority _other;

    public HostKeyCheckTests()
    {
        _authority = LicensingAuthority.Create(Path.Combine(_directory, "authority"));
        _other = LicensingAuthority.Create(Path.Combine(_directory, "other"));
    }

    private HostKey Issue(string group = WindowsGroup, DateTimeOffset? expires = null) =>
        _authority.Issue("k-check", group, "Contoso Ltd", Now.AddDays(-10), expires);

    private HostKeyCheck Verify(HostKey key, IReadOnlyList<TrustedAuthority>? trusted = null, HostOperatingSystem? os = null) =>
        HostKeyCheck.Verify(key, trusted ?? [_authority.Public], Catalog, os ?? Server2025, Now);

    [Fact]
    public void A_genuine_key_is_valid_and_names_its_group()
    {
        var key = Issue();
        var check = Verify(key);

        Assert.Equal((HostKeyProblem.None, "valid", true), (check.Problem, check.Reason, check.IsValid));
        Assert.Same(key, check.Key);
        Assert.Same(Catalog.FindKeyGroup(WindowsGroup), check.Group);
    }

    [Fact]
    public void The_authority_is_found_among_several_trusted_ones()
    {
        Assert.True(Verify(Issue(), [_other.Public, _authority.Public]).IsValid);
    }

    [Fact]
    public void An_untrusted_authority_is_refused_listing_the_trusted_ones()
    {
        var check = Verify(_other.Issue("k-other", WindowsGroup, "Contoso Ltd", Now), [_authority.Public]);

        Assert.Equal(HostKeyProblem.UnknownAuthority, check.Problem);
        Assert.False(check.IsValid);
        Assert.Null(check.Group);
        Assert.Equal($"signed by authority {_other.Public.Fingerprint}, which this node does not trust (it trusts {_authority.Public.Fingerprint})",
            check.Reason);
    }

    [Fact]
    public void Several_trusted_authorities_are_listed_comma_separated()
    {
        using var third = LicensingAuthority.Create(Path.Combine(_directory, "third"));
        var check = Verify(third.Issue("k-third", WindowsGroup, "Contoso Ltd", Now), [_authority.Public, _other.Public]);

        Assert.EndsWith($"(it trusts {_authority.Public.Fingerprint}, {_other.Public.Fingerprint})", check.Reason);
    }

    [Fact]
    public void With_no_trusted_authority_the_reason_says_how_to_trust_one()
    {
        var key = Issue();
        var check = Verify(key, []);

        Assert.Equal(HostKeyProblem.UnknownAuthority, check.Problem);
        Assert.Equal($"signed by authority {key.Authority}, but this node trusts no authority (--authority-key)", check.Reason);
    }

    [Fact]
    public void A_changed_key_has_a_bad_signature_and_no_group()
    {
        var key = Issue() with { Organisation = "Mallory" };
        var check = Verify(key);

        Assert.Equal(HostKeyProblem.BadSignature, check.Problem);
        Assert.Null(check.Group);
        Assert.Equal($"bad signature: the key names authority {key.Authority}, but its signature does not match its content (changed after issue?)",
            check.Reason);
    }

    [Fact]
    public void A_signature_that_is_not_64_bytes_is_a_bad_signature()
    {
        var key = Issue();
        Assert.Equal(HostKeyProblem.BadSignature, Verify(key with { Signature = key.Signature[..63] }).Problem);
        Assert.Equal(HostKeyProblem.BadSignature, Verify(key with { Signature = [.. key.Signature, 0] }).Problem);
        Assert.Equal(HostKeyProblem.BadSignature, Verify(key with { Signature = [] }).Problem);
    }

    [Fact]
    public void A_key_expires_at_its_expiry_second_not_after_it()
    {
        var key = Issue(expires: Now);

        var atExpiry = Verify(key);

        Assert.Equal(HostKeyProblem.Expired, atExpiry.Problem);
        Assert.Null(atExpiry.Group);
        Assert.Equal("expired at 2025-06-01T12:00:00Z", atExpiry.Reason);
        Assert.True(Verify(Issue(expires: Now.AddSeconds(1))).IsValid);
    }

    [Fact]
    public void A_key_without_expiry_never_expires()
    {
        Assert.True(HostKeyCheck.Verify(Issue(), [_authority.Public], Catalog, Server2025, DateTimeOffset.MaxValue).IsValid);
    }

    [Fact]
    public void Expiry_is_checked_before_the_group()
    {
        Assert.Equal(HostKeyProblem.Expired, Verify(Issue(group: "No such group", expires: Now)).Problem);
    }

    [Fact]
    public void An_unknown_group_is_refused_listing_the_catalogues_groups()
    {
        var check = Verify(Issue(group: "No such group"));

        Assert.Equal(HostKeyProblem.UnknownGroup, check.Problem);
        Assert.Null(check.Group);
        Assert.Equal($"unknown group \"No such group\" (this node's catalogue has: {string.Join(", ", Catalog.KeyGroups.Select(g => g.Name))})",
            check.Reason);
        Assert.Contains(", ", check.Reason);
    }

    [Fact]
    public void A_group_not_hostable_on_the_host_os_is_refused_listing_where_it_may_run()
    {
        var os = Catalog.FindHostOs("Windows 7")!;
        var group = Catalog.FindKeyGroup(WindowsGroup)!;

        var check = Verify(Issue(), os: os);

        Assert.Equal(HostKeyProblem.NotHostable, check.Problem);
        Assert.Same(group, check.Group);
        Assert.Equal($"group \"{group.Name}\" cannot be hosted on Windows 7 (only on {string.Join(", ", group.HostableOn.Select(o => o.Name))})",
            check.Reason);
    }

    [Theory]
    [InlineData(HostKeyProblem.None, "ok")]
    [InlineData(HostKeyProblem.UnknownAuthority, "unknown-authority")]
    [InlineData(HostKeyProblem.BadSignature, "bad-signature")]
    [InlineData(HostKeyProblem.Expired, "expired")]
    [InlineData(HostKeyProblem.UnknownGroup, "unknown-group")]
    [InlineData(HostKeyProblem.NotHostable, "not-hostable")]
    [InlineData(HostKeyProblem.Pending, "pending")]
    [InlineData(HostKeyProblem.HostLimitReached, "host-limit-reached")]
    [InlineData(HostKeyProblem.ReactivationLimitReached, "reactivation-limit-reached")]
    [InlineData((HostKeyProblem)99, "99")]
    public void Every_problem_has_a_stable_name(HostKeyProblem problem, string name)
    {
        Assert.Equal(name, HostKeyCheck.Name(problem));
    }

    public void Dispose()
    {
        _authority.Dispose();
        _other.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
