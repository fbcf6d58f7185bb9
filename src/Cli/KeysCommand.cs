using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using KmsCluster.Protocol.Admin;
using KmsCluster.Protocol.Licensing;
using Spectre.Console;
using static KmsCluster.Cli.AdminApi;

namespace KmsCluster.Cli;

/// <summary>
/// <c>kms keys</c>: host keys. <c>authority-init</c> creates a licensing authority's key pair, <c>issue</c> signs a
/// host key with it, <c>status</c> shows a node's keys and the cluster's host activation ledger, <c>reactivate</c>
/// re-activates a node under one of its keys; <c>request</c> and <c>install</c> carry a node's activation to the
/// licensing authority and its certificate back, offline (KeysCommand.Offline.cs).
/// </summary>
internal static partial class KeysCommand
{
    public static Command Create(CliOutput output) => new("keys", "host keys: create an authority, issue keys, show and re-activate a node's keys")
    {
        AuthorityInit(output), Issue(output), Status(output), Reactivate(output), Request(output), Install(output),
    };

    private static Command AuthorityInit(CliOutput output)
    {
        var directory = new Option<string>("--out") { Description = "directory for authority.key (private) and authority.pub", Required = true, HelpName = "DIR" };
        var command = new Command("authority-init", "create a licensing authority: an ECDSA P-256 key pair") { directory };
        command.SetAction(result => Run(output, () =>
        {
            var path = result.GetValue(directory)!;
            using var authority = LicensingAuthority.Create(path);
            output.Out.WriteLine($"created licensing authority {authority.Public.Fingerprint}");
            output.Out.WriteLine($"  private key: {Path.Combine(path, LicensingAuthority.PrivateKeyFile)} (keep it secret; it signs host keys)");
            output.Out.WriteLine($"  public key:  {Path.Combine(path, LicensingAuthority.PublicKeyFile)} (give it to nodes: kms-node --authority-key)");
            return ExitCodes.Activated;
        }));
        return command;
    }

    private static Command Issue(CliOutput output)
    {
        var authorityDirectory = new Option<string>("--authority") { Description = "the authority's directory (authority-init --out)", Required = true, HelpName = "DIR" };
        var group = new Option<string>("--group") { Description = "key group from the catalogue, e.g. \"Windows Server 2025 volume licence\"", Required = true, HelpName = "NAME" };
        var organisation = new Option<string>("--org") { Description = "organisation the key is issued to", Required = true, HelpName = "NAME" };
        var maxHosts = new Option<int?>("--max-hosts") { Description = $"exception to the limit of {HostKey.DefaultMaxHosts} hosts per key", HelpName = "N" };
        var expires = new Option<string?>("--expires") { Description = "expiry, UTC: 2027-12-31 or 2027-12-31T18:00:00Z (default: never)", HelpName = "DATE" };
        var keyId = new Option<string?>("--key-id") { Description = "the key's id: a-z, 0-9, '-' (default: from the group and a random suffix)", HelpName = "ID" };
        var catalogFile = CatalogOption.Create();
        var file = new Option<string>("--out") { Description = "the host key file to write", Required = true, HelpName = "FILE" };
        var command = new Command("issue", "issue a signed host key for a key group")
        {
            authorityDirectory, group, organisation, maxHosts, expires, keyId, catalogFile, file,
        };
        command.SetAction(result => Run(output, () =>
        {
            var catalog = CatalogOption.Load(result.GetValue(catalogFile));
            var groupName = result.GetValue(group)!;
            var keyGroup = catalog.FindKeyGroup(groupName) ?? throw new UsageException(
                $"--group: unknown key group \"{groupName}\"; closest: {string.Join(", ", Protocol.Catalog.NameSuggestions.Closest(catalog.KeyGroups.Select(g => g.Name), groupName))}");
            var org = result.GetValue(organisation)!.Trim();
            if (!HostKey.IsValidText(org))
            {
                throw new UsageException("--org: 1 to 200 characters without control characters");
            }
            if (result.GetValue(maxHosts) is < 1 or > HostKey.MaxHostsLimit)
            {
                throw new UsageException($"--max-hosts: from 1 to {HostKey.MaxHostsLimit}");
            }
            var now = DateTimeOffset.UtcNow;
            DateTimeOffset? expiresAt = result.GetValue(expires) is { } text ? ParseExpiry(text) : null;
            if (expiresAt <= now)
            {
                throw new UsageException($"--expires: {HostKey.FormatTime(expiresAt!.Value)} is not in the future");
            }
            var id = result.GetValue(keyId) ?? DefaultKeyId(keyGroup.Name);
            if (!HostKey.IsValidKeyId(id))
            {
                throw new UsageException($"--key-id: \"{id}\" may hold only a-z, 0-9 and '-' (1 to 64 characters)");
            }
            var path = result.GetValue(file)!;
            if (File.Exists(path))
            {
                throw new UsageException($"--out: {path} exists; a host key file is never overwritten");
            }
            using var authority = LicensingAuthority.Load(result.GetValue(authorityDirectory)!);
            var key = authority.Issue(id, keyGroup.Name, org, now, expiresAt, result.GetValue(maxHosts));
            try
            {
                File.WriteAllText(path, key.ToJson());
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--out: cannot write {path}: {e.Message}");
            }
            output.Out.WriteLine($"issued host key {key.KeyId} to {path}");
            output.Out.WriteLine($"  group {key.Group}, organisation {key.Organisation}, up to {key.HostLimit} hosts, " +
                                 $"{(key.ExpiresAt is { } at ? "expires " + HostKey.FormatTime(at) : "no expiry")}, authority {key.Authority}");
            return ExitCodes.Activated;
        }));
        return command;
    }

    private static Command Status(CliOutput output)
    {
        var admin = new AdminOptions();
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("status", "show a node's host keys and the cluster's host activation ledger of each") { json };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction((result, cancellationToken) => ShowAsync(output, admin, result, "/api/v1/host-keys",
            result.GetValue(json), AdminJson.Http.IReadOnlyListHostKeyLedgerJson, keys => PrintStatus(output, keys), cancellationToken));
        return command;
    }

    private static Command Reactivate(CliOutput output)
    {
        var keyId = new Argument<string>("KEY-ID") { Description = "the key to re-activate this node under (kms keys status lists them)" };
        var admin = new AdminOptions();
        var json = new Option<bool>("--json") { Description = "print the admin API's JSON" };
        var command = new Command("reactivate", $"re-activate a node under one of its host keys (counts against the key's {HostKey.MaxReactivations} re-activations per host)")
        {
            keyId, json,
        };
        foreach (var option in admin.All) command.Options.Add(option);
        command.SetAction(async (result, cancellationToken) => await RunAsync(output, async () =>
        {
            var target = admin.Resolve(result);
            var id = result.GetValue(keyId)!;
            var answer = await SendAsync(HttpMethod.Post, target, $"/api/v1/host-keys/{Uri.EscapeDataString(id)}/reactivate",
                cancellationToken);
            if (answer.Status == HttpStatusCode.NotFound)
            {
                return output.Fail(ExitCodes.Usage, $"{target.Address}: {answer.ErrorText()}");
            }
            if (result.GetValue(json))
            {
                output.Out.WriteLine(answer.Body);
            }
            if (answer.Status == HttpStatusCode.Unauthorized)
            {
                return output.Fail(ExitCodes.Refused, Failure(target, answer));
            }
            if (!answer.IsSuccess)
            {
                return output.Fail(ExitCodes.Refused, $"{target.Address}: {(int)answer.Status} {Describe(answer)}");
            }
            if (!result.GetValue(json))
            {
                output.Out.WriteLine(Describe(answer));
            }
            return ExitCodes.Activated;
        }));
        return command;
    }

    /// <summary>A re-activation answer in words, or the error text (a 409 is either).</summary>
    private static string Describe(AdminAnswer answer)
    {
        try
        {
            // An error body reads as a reactivation without an outcome: System.Text.Json skips its "error".
            if (answer.Read(AdminJson.Http.ReactivationJson) is { Outcome: { } outcome } done)
            {
                return $"host key {Shown(done.KeyId)}: {outcome}; this host re-activated {done.Reactivations} of " +
                       $"{done.MaxReactivations} times; the key has {done.Hosts} of {done.MaxHosts} hosts";
            }
        }
        catch (JsonException)
        {
            // Not a JSON object: the error text below shows the body.
        }
        return answer.ErrorText();
    }

    private static void PrintStatus(CliOutput output, IReadOnlyList<HostKeyLedgerJson> keys)
    {
        if (keys.Count == 0)
        {
            output.Out.WriteLine("this node has no host key: it refuses every activation (no-host-key)");
            return;
        }
        foreach (var (key, hosts, owner, error) in keys)
        {
            output.Ansi.MarkupLine($"[bold]{Markup.Escape(Shown(key.KeyId))}[/]: {Markup.Escape(Shown(key.Group))}, " +
                                   $"{Markup.Escape(Shown(key.Organisation))}; {Markup.Escape(Shown(key.Status))}: {Markup.Escape(Shown(key.Reason))}");
            output.Out.WriteLine($"  hosts {(hosts is null ? "?" : hosts.Count.ToString(CultureInfo.InvariantCulture))} of {key.MaxHosts}, " +
                                 $"re-activations up to {key.MaxReactivations} per host; file {Shown(key.File)}; ledger on {Shown(owner)}");
            if (hosts is null)
            {
                output.Out.WriteLine($"  {Shown(error, "no ledger")}");
                continue;
            }
            var table = new Table().Border(TableBorder.Simple).AddColumns("Host id", "Name", "First activated (UTC)", "Last activated (UTC)", "Re-activations", "");
            foreach (var host in hosts)
            {
                table.AddRow(host.HostId.ToString(), Markup.Escape(Shown(host.Name)), Time(host.FirstActivatedAt), Time(host.LastActivatedAt),
                    $"{host.Reactivations}/{key.MaxReactivations}", host.Self ? "this node" : "");
            }
            output.Ansi.Write(table);
        }
    }

    /// <summary>A date (midnight UTC) or a UTC time.</summary>
    private static DateTimeOffset ParseExpiry(string text) =>
        DateTimeOffset.TryParseExact(text.Trim(), ["yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ssZ"], CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at)
            ? at
            : throw new UsageException($"--expires: \"{text}\" is not a UTC date or time (2027-12-31 or 2027-12-31T18:00:00Z)");

    /// <summary>windows-server-2025-volume-licence-1a2b3c4d: readable, and unique by its random end.</summary>
    private static string DefaultKeyId(string group)
    {
        var slug = new string(group.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        while (slug.Contains("--", StringComparison.Ordinal)) slug = slug.Replace("--", "-", StringComparison.Ordinal);
        slug = (slug.Length > 40 ? slug[..40] : slug).Trim('-');
        var suffix = Guid.NewGuid().ToString("N")[..8];
        return slug.Length == 0 ? suffix : $"{slug}-{suffix}";
    }

    private static int Run(CliOutput output, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is UsageException or LicensingException or HostKeyFormatException)
        {
            return output.Fail(ExitCodes.Usage, e.Message);
        }
    }

    private static async Task<int> RunAsync(CliOutput output, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (UsageException e)
        {
            return output.Fail(ExitCodes.Usage, e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return output.Fail(ExitCodes.Unreachable, $"admin API unreachable: {e.Message}");
        }
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
