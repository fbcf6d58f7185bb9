using System.CommandLine;
using KmsCluster.Client.Connection;
using KmsCluster.Client.Verification;
using KmsCluster.Protocol.Catalog;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Cli;

/// <summary><c>kms activate</c>: one activation request, failing over across the given servers; exit 0 activated,
/// 1 below threshold, 2+ errors.</summary>
internal static class ActivateCommand
{
    public static Command Create(CliOutput output)
    {
        var server = new Option<string[]>("--server")
        {
            Description = "host to ask, HOST[:PORT] (default port 1688); repeat for several: on failure the next one is asked; or use --discover",
        };
        var product = new Option<string>("--product") { Description = "edition: slug, id or name from `kms products`", Required = true };
        var application = new Option<string?>("--application") { Description = "application id, for a product the local catalogue does not know" };
        var cmid = new Option<string?>("--cmid") { Description = "client machine id (default: this user's stored id)" };
        var workstation = new Option<string?>("--workstation") { Description = "client name (default: this machine's name)" };
        var licenseState = new Option<string>("--license-state")
        {
            Description = "unlicensed, licensed, initial-grace, expired-grace, non-genuine-grace, notification, extended-grace",
            DefaultValueFactory = _ => "initial-grace",
        };
        var minutesLeft = new Option<uint>("--minutes-left") { Description = "minutes left in the licence state", DefaultValueFactory = _ => 43200 };
        var virtualMachine = new Option<bool>("--vm") { Description = "the client is a virtual machine" };
        var timeout = new Option<double>("--timeout") { Description = "seconds to wait for an answer, across all servers and retries", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "print one JSON object" };
        var authorityKeys = AnswerChecks.AuthorityKeyOption();
        var unsigned = new Option<bool>("--unsigned")
        {
            Description = "speak protocol v1 and accept its unsigned answers, unchecked (a host started with --allow-unsigned)",
        };
        var save = new Option<string?>("--save") { Description = "also write the signed answer to FILE, for `kms verify`" };
        var discover = DiscoveryFlags.DiscoverOption();
        var dnsServer = DiscoveryFlags.DnsServerOption();

        var command = new Command("activate", "ask a host to activate this client")
        {
            server, discover, dnsServer, product, application, cmid, workstation, licenseState, minutesLeft, virtualMachine, timeout, json,
            authorityKeys, unsigned, save,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            try
            {
                var servers = (result.GetValue(server) ?? []).Select(text => ServerAddresses.ParseOrThrow(text)).ToArray();
                var discovery = await DiscoveryFlags.ReadAsync(result.GetValue(discover), result.GetValue(dnsServer), servers.Length > 0, cancellationToken);
                var (productId, applicationId, slug, threshold) = ResolveProduct(result.GetValue(product)!, result.GetValue(application));
                var machineId = result.GetValue(cmid) is { } text
                    ? Guid.TryParse(text, out var parsed) && parsed != Guid.Empty ? parsed : throw new UsageException($"--cmid: \"{text}\" is not a GUID")
                    : MachineIdentity.LocalMachineId();
                if (!LicenseStates.TryParse(result.GetValue(licenseState)!, out var state))
                {
                    throw new UsageException($"--license-state: \"{result.GetValue(licenseState)}\" is not a licence state");
                }
                var seconds = result.GetValue(timeout);
                if (!(seconds > 0 && seconds <= 3600))
                {
                    throw new UsageException("--timeout: seconds must be more than 0 and at most 3600");
                }
                var name = result.GetValue(workstation) ?? Environment.MachineName;
                if (System.Text.Encoding.UTF8.GetByteCount(name) > ProtocolConstants.MaxNameBytes || name.Any(char.IsControl))
                {
                    throw new UsageException($"--workstation: at most {ProtocolConstants.MaxNameBytes} UTF-8 bytes, no control characters");
                }
                var signed = !result.GetValue(unsigned);
                var saveFile = result.GetValue(save);
                if (!signed && saveFile is not null)
                {
                    throw new UsageException("--save keeps a signed answer: it does not go with --unsigned");
                }
                var verifier = signed ? AnswerChecks.Verifier(result.GetValue(authorityKeys), "or --unsigned for a host started with --allow-unsigned") : null;
                var request = new ActivationRequest(machineId, applicationId, productId, (ushort)threshold, state,
                    result.GetValue(minutesLeft), result.GetValue(virtualMachine), name, DateTimeOffset.UtcNow);

                // Discovered hosts are not known yet: each attempt gets at most half of --timeout.
                await using var client = discovery is null
                    ? new KmsClient(servers, ClientOptions(TimeSpan.FromSeconds(seconds), servers.Length, signed))
                    : await KmsClient.DiscoverAsync(discovery, ClientOptions(TimeSpan.FromSeconds(seconds), 2, signed), cancellationToken);
                var answer = await client.RequestAsync(request, cancellationToken);
                if (verifier is not null && !answer.Result.IsError)
                {
                    var verdict = verifier.Verify(answer.Result, request);
                    if (!verdict.IsValid)
                    {
                        return output.Fail(ExitCodes.Refused, $"{answer.Server}: answer refused: {verdict.Reason}");
                    }
                    if (saveFile is not null)
                    {
                        await File.WriteAllTextAsync(saveFile, SavedAnswer.ToJson(answer.Result.Signed!, answer.Server.ToString()), cancellationToken);
                    }
                }
                return Report(output, answer.Result, answer.Server, slug, result.GetValue(json));
            }
            catch (UsageException e)
            {
                return output.Fail(ExitCodes.Usage, e.Message);
            }
            catch (Exception e) when (e is KmsConnectionException or TimeoutException)
            {
                return output.Fail(ExitCodes.Unreachable, e.Message);
            }
        });
        return command;
    }

    /// <summary>The whole run gets <paramref name="deadline"/>; one attempt at most its share per server, so a
    /// host that hangs leaves time to ask the others.</summary>
    private static KmsClientOptions ClientOptions(TimeSpan deadline, int serverCount, bool signed)
    {
        var defaults = new KmsClientOptions();
        var share = deadline / serverCount;
        return defaults with
        {
            Deadline = deadline,
            ProtocolVersion = signed ? ProtocolConstants.SignedVersion : ProtocolConstants.Version,
            ConnectTimeout = share < defaults.ConnectTimeout ? share : defaults.ConnectTimeout,
            RequestTimeout = share < defaults.RequestTimeout ? share : defaults.RequestTimeout,
        };
    }

    private static (Guid ProductId, Guid ApplicationId, string Slug, int Threshold) ResolveProduct(string text, string? applicationText)
    {
        var catalog = ProductCatalog.Default;
        var found = catalog.FindProduct(text);
        if (found is not null)
        {
            return (found.Id, found.Application.Id, found.Slug, found.Threshold);
        }
        if (Guid.TryParse(text, out var productId) && applicationText is not null)
        {
            var application = catalog.FindApplication(applicationText)?.Id
                ?? (Guid.TryParse(applicationText, out var applicationId) ? applicationId
                    : throw new UsageException($"--application: \"{applicationText}\" is neither a known application nor a GUID"));
            return (productId, application, text, 0);
        }
        throw new UsageException(
            $"unknown product \"{text}\"; closest: {string.Join(", ", catalog.SuggestProducts(text))} (see `kms products`; a product only the host knows needs its id and --application)");
    }

    private static int Report(CliOutput output, ActivationResult answer, ServerAddress server, string product, bool json)
    {
        if (answer.IsError)
        {
            var error = answer.Error;
            if (json)
            {
                output.WriteJson(new
                {
                    error = error.Code.Name(),
                    code = (ushort)error.Code,
                    message = error.Message,
                    retryable = error.IsRetryable,
                    server = server.ToString(),
                });
            }
            return output.Fail(ExitCodes.Refused, $"{server} refused: {error.Code.Name()} ({(ushort)error.Code}): {error.Message}");
        }
        var r = answer.Response;
        if (json)
        {
            output.WriteJson(new
            {
                activated = r.Activated,
                count = r.CurrentCount,
                threshold = r.Threshold,
                validUntil = r.ValidUntil,
                activationIntervalMinutes = r.ActivationIntervalMinutes,
                renewalIntervalMinutes = r.RenewalIntervalMinutes,
                host = r.HostName,
                hostId = r.HostId,
                hostTime = r.HostTime,
                cmid = r.ClientMachineId,
                product,
                server = server.ToString(),
                verified = answer.Signed is not null,
                keyId = answer.Signed?.Content.KeyId,
            });
        }
        else if (r.Activated)
        {
            output.Out.WriteLine($"activated by {r.HostName} ({server}): count {r.CurrentCount}/{r.Threshold}, valid until {r.ValidUntil:yyyy-MM-ddTHH:mm:ssZ}, renew every {r.RenewalIntervalMinutes} min");
        }
        else
        {
            output.Out.WriteLine($"not activated yet by {r.HostName} ({server}): count {r.CurrentCount}/{r.Threshold}, retry in {r.ActivationIntervalMinutes} min");
        }
        return r.Activated ? ExitCodes.Activated : ExitCodes.NotActivated;
    }
}
