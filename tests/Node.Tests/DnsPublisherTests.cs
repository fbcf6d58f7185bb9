using System.Collections.Concurrent;
using System.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;
using KmsCluster.Node.Dns;
using KmsCluster.Protocol.Admin;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsCluster.Node.Tests;

/// <summary>The publisher's loop against a scripted DNS server: success, back-off, refresh, removal; and the UPDATE it builds.</summary>
public sealed class DnsPublisherTests
{
    private static readonly DnsPublishing Settings = DnsPublishing.Off with
    {
        Enabled = true,
        Server = new DnsServerEndpoint("127.0.0.1", 5353),
        Zone = "kms.example",
        Target = "node1.kms.example",
        Priority = 10,
        Weight = 60,
        Ttl = TimeSpan.FromMinutes(10),
        Refresh = TimeSpan.FromMilliseconds(200),
        Addresses = [IPAddress.Parse("192.0.2.7"), IPAddress.Parse("2001:db8::7")],
    };

    private static readonly DnsPublisherTimings Fast = new(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(40), TimeSpan.FromSeconds(2));

    /// <summary>Answers each call with the next scripted outcome (the last one repeats) and records the calls.</summary>
    private sealed class ScriptedUpdater(params DnsUpdateOutcome[] script) : IDnsUpdater
    {
        private int _calls;

        /// <summary>Runs before call n (0-based) is answered.</summary>
        public Action<int>? BeforeCall { get; init; }

        public ConcurrentQueue<(string Kind, DnsRegistration Registration)> Calls { get; } = new();

        public Task<DnsUpdateOutcome> RegisterAsync(DnsRegistration registration, CancellationToken cancellationToken) =>
            Next("register", registration);

        public Task<DnsUpdateOutcome> RemoveAsync(DnsRegistration registration, CancellationToken cancellationToken) =>
            Next("remove", registration);

        private Task<DnsUpdateOutcome> Next(string kind, DnsRegistration registration)
        {
            Calls.Enqueue((kind, registration));
            var n = Interlocked.Increment(ref _calls) - 1;
            BeforeCall?.Invoke(n);
            return Task.FromResult(script[Math.Min(n, script.Length - 1)]);
        }
    }

    private static DnsPublisher Publisher(DnsPublishingStatus status, IDnsUpdater updater) =>
        new(status, updater, () => 1688, new StubLifetime(), TimeProvider.System, NullLogger<DnsPublisher>.Instance, Fast);

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_success_publishes_and_is_refreshed_on_the_refresh_interval()
    {
        var status = new DnsPublishingStatus(Settings);
        var updater = new ScriptedUpdater(DnsUpdateOutcome.Success);
        using var stop = new CancellationTokenSource();
        var run = Publisher(status, updater).PublishAsync(1688, stop.Token);

        await Until(() => status.Attempts >= 3, "two refreshes");
        stop.Cancel();
        await run;

        var snapshot = status.Snapshot();
        Assert.Equal(DnsPublishingStatus.States.Published, snapshot.State);
        Assert.Equal(0, snapshot.Failures);
        Assert.NotNull(snapshot.LastSuccess);
        Assert.Equal("_vlmcs._tcp.kms.example. 600 IN SRV 10 60 1688 node1.kms.example.", snapshot.Record);
        Assert.All(updater.Calls, call => Assert.Equal(("register", 1688), (call.Kind, call.Registration.Port)));
    }

    [Fact]
    public async Task Failures_are_retried_with_back_off_and_reported_until_one_succeeds()
    {
        var status = new DnsPublishingStatus(Settings);
        var refused = DnsUpdateOutcome.Failure("TSIG key refused (BADSIG/NOTAUTH)");
        DnsStatusJson? failing = null;
        var updater = new ScriptedUpdater(refused, refused, refused, DnsUpdateOutcome.Success)
        {
            BeforeCall = n => failing = n == 2 ? status.Snapshot() : failing,
        };
        using var stop = new CancellationTokenSource();
        var run = Publisher(status, updater).PublishAsync(1688, stop.Token);

        await Until(() => failing is not null, "the third attempt");
        Assert.Equal(2, failing!.ConsecutiveFailures);
        Assert.Equal(DnsPublishingStatus.States.Failing, failing.State);
        Assert.Equal("TSIG key refused (BADSIG/NOTAUTH)", failing.LastError);
        Assert.NotNull(failing.LastFailure);
        Assert.Null(failing.NextAttempt); // an attempt is under way

        await Until(() => status.State == DnsPublishingStatus.States.Published, "the fourth attempt's success");
        stop.Cancel();
        await run;
        var published = status.Snapshot();
        Assert.Equal(3, published.Failures);
        Assert.Equal(0, published.ConsecutiveFailures);
        Assert.Equal("TSIG key refused (BADSIG/NOTAUTH)", published.LastError); // the last error stays for the operator
    }

    [Fact]
    public async Task Removal_deletes_the_published_registration_and_is_reported()
    {
        var status = new DnsPublishingStatus(Settings);
        var updater = new ScriptedUpdater(DnsUpdateOutcome.Success);
        var publisher = Publisher(status, updater);
        using var stop = new CancellationTokenSource();
        var run = publisher.PublishAsync(4242, stop.Token);
        await Until(() => status.Attempts >= 1, "the first registration");
        stop.Cancel();
        await run;

        await publisher.RemoveAsync(CancellationToken.None);

        Assert.Equal(DnsPublishingStatus.States.Removed, status.State);
        var (kind, registration) = updater.Calls.Last();
        Assert.Equal(("remove", 4242), (kind, registration.Port));
    }

    [Fact]
    public async Task A_failed_removal_is_reported_and_nothing_is_removed_before_publishing_started()
    {
        var status = new DnsPublishingStatus(Settings);
        var updater = new ScriptedUpdater(DnsUpdateOutcome.Success, DnsUpdateOutcome.Failure("no answer from DNS server 127.0.0.1:5353 in 5 s"));
        var publisher = Publisher(status, updater);
        await publisher.RemoveAsync(CancellationToken.None);
        Assert.Empty(updater.Calls);

        using var stop = new CancellationTokenSource();
        var run = publisher.PublishAsync(1688, stop.Token);
        await Until(() => status.Attempts >= 1, "the first registration");
        stop.Cancel();
        await run;
        await publisher.RemoveAsync(CancellationToken.None);
        Assert.Equal(DnsPublishingStatus.States.RemoveFailed, status.State);
        Assert.Equal("no answer from DNS server 127.0.0.1:5353 in 5 s", status.Snapshot().LastError);
    }

    [Theory]
    [InlineData(1, 0.0, 500)]
    [InlineData(1, 0.999999, 1000)]
    [InlineData(2, 0.0, 1000)]
    [InlineData(4, 0.0, 4000)]
    [InlineData(9, 0.0, 128_000)]
    [InlineData(30, 0.999999, 300_000)]
    [InlineData(1000, 0.5, 225_000)]
    public void Back_off_doubles_from_1s_to_5min_with_jitter_in_the_upper_half(int failures, double random, double milliseconds) =>
        Assert.Equal(milliseconds, DnsPublisherTimings.Default.Backoff(failures, random).TotalMilliseconds, precision: 0);

    [Fact]
    public void The_update_deletes_this_nodes_own_records_then_adds_them_and_is_signed_with_the_key()
    {
        var settings = Settings with { Tsig = new TsigKey("kms-update", "hmac-sha256", new byte[32]) };
        var message = Rfc2136Updater.BuildMessage(new DnsRegistration(settings, 1688), add: true);

        Assert.Equal("kms.example.", message.ZoneName.ToString());
        var updates = message.Updates.Select(u => (u.GetType().Name, u switch
        {
            DeleteRecordUpdate d => d.Record.ToString(),
            AddRecordUpdate a => a.Record.ToString(),
            _ => "",
        })).ToArray();
        Assert.Equal(6, updates.Length);
        Assert.Equal(nameof(DeleteRecordUpdate), updates[0].Item1);
        Assert.Contains("SRV 10 60 1688 node1.kms.example.", updates[0].Item2, StringComparison.Ordinal);
        Assert.Equal(nameof(AddRecordUpdate), updates[1].Item1);
        Assert.Contains("600", updates[1].Item2, StringComparison.Ordinal);
        Assert.Contains("A 192.0.2.7", updates[3].Item2, StringComparison.Ordinal);
        Assert.Contains("AAAA 2001:db8::7", updates[5].Item2, StringComparison.Ordinal);
        Assert.Equal("kms-update.", message.TSigOptions!.Name.ToString());
        Assert.Equal(TSigAlgorithm.Sha256, message.TSigOptions.Algorithm);

        var removal = Rfc2136Updater.BuildMessage(new DnsRegistration(Settings, 1688), add: false);
        Assert.All(removal.Updates, u => Assert.IsType<DeleteRecordUpdate>(u));
        Assert.Equal(3, removal.Updates.Count);
        Assert.Null(removal.TSigOptions);
    }

    [Theory]
    [InlineData(ReturnCode.NoError, 0, null)]
    [InlineData(ReturnCode.NotAuthoritive, 16, "TSIG key refused (BADSIG/NOTAUTH)")]
    [InlineData(ReturnCode.NotAuthoritive, 17, "TSIG key refused (BADKEY/NOTAUTH)")]
    [InlineData(ReturnCode.NotAuthoritive, 18, "TSIG key refused (BADTIME/NOTAUTH)")]
    [InlineData(ReturnCode.Refused, 0, "update refused (REFUSED): the server does not accept unsigned updates")]
    [InlineData(ReturnCode.NotZone, 0, "a record lies outside the zone kms.example (NOTZONE)")]
    [InlineData(ReturnCode.ServerFailure, 0, "the DNS server failed to apply the update (SERVFAIL)")]
    public void Answers_become_one_line_reasons(ReturnCode code, int tsigError, string? expected)
    {
        var answer = new DnsUpdateMessage { ReturnCode = code };
        if (tsigError != 0)
        {
            answer.TSigOptions = new TSigRecord(ARSoft.Tools.Net.DomainName.Parse("kms-update"), TSigAlgorithm.Sha256, DateTime.UtcNow,
                TimeSpan.FromMinutes(5), 1, (ReturnCode)tsigError, null, null);
        }
        var outcome = Rfc2136Updater.Judge(answer, Settings);
        Assert.Equal(expected is null, outcome.Succeeded);
        if (expected is not null)
        {
            Assert.StartsWith(expected, outcome.Error, StringComparison.Ordinal);
        }
    }

    private sealed class StubLifetime : IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => new(canceled: true);
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication()
        {
        }
    }
}
