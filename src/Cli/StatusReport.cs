using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Cli;

/// <summary>
/// What <c>kms status</c> shows, gathered from a node's admin API: <c>/api/v1/node</c>, <c>/api/v1/stats</c>,
/// <c>/api/v1/host</c> (keys, DNS) and <c>/api/v1/cluster</c> at once, then each application's window
/// (<c>/api/v1/windows/{application}</c>) at once, every request with its own timeout. A part that could not be
/// fetched is null and named in <see cref="Unavailable"/>; the rest is still there. <c>--json</c> prints this record.
/// </summary>
/// <param name="Admin">The admin endpoint asked.</param>
/// <param name="Unavailable">The parts that could not be fetched, and why.</param>
internal sealed record StatusReport(
    string Admin,
    NodeJson? Node,
    StatsJson? Stats,
    HostJson? Host,
    ClusterJson? Cluster,
    IReadOnlyList<StatusWindow> Windows,
    IReadOnlyList<StatusProblem> Unavailable)
{
    public bool Complete => Unavailable.Count == 0;

    /// <exception cref="AdminUnreachableException">no part answered at all: the admin endpoint is not there.</exception>
    /// <exception cref="AdminTokenRefusedException">the node refused the token.</exception>
    public static async Task<StatusReport> GatherAsync(AdminTarget target, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var node = Part(target, "node", "/api/v1/node", AdminJson.Http.NodeJson, timeout, cancellationToken);
        var stats = Part(target, "stats", "/api/v1/stats", AdminJson.Http.StatsJson, timeout, cancellationToken);
        var host = Part(target, "host", "/api/v1/host", AdminJson.Http.HostJson, timeout, cancellationToken);
        var cluster = Part(target, "cluster", "/api/v1/cluster", AdminJson.Http.ClusterJson, timeout, cancellationToken);
        Fetched[] first = [await node, await stats, await host, await cluster];
        if (first.All(p => p.Unreachable))
        {
            throw new AdminUnreachableException(first[0].Error!);
        }
        if (first.FirstOrDefault(p => p.TokenRefused) is { } refused)
        {
            throw new AdminTokenRefusedException(refused.Error!);
        }

        // The applications come from the cluster document (every window, with its owner); without it, from the
        // windows the node lists in one answer.
        var problems = first.Where(p => p.Error is not null).Select(p => new StatusProblem(p.Name, p.Error!)).ToList();
        IReadOnlyList<StatusWindow> windows;
        if ((await cluster).Value is { Windows: { } owners })
        {
            windows = await Task.WhenAll(owners.Select(async owner =>
            {
                var window = await Part(target, "window " + owner.Application, "/api/v1/windows/" + Uri.EscapeDataString(owner.Application),
                    AdminJson.Http.WindowJson, timeout, cancellationToken);
                return new StatusWindow(owner.Application, owner.Owner, window.Value, window.Error);
            }));
        }
        else
        {
            var all = await Part(target, "windows", "/api/v1/windows", AdminJson.Http.WindowsJson, timeout, cancellationToken);
            windows = all.Value is { } listed
                ? [.. listed.Windows.Select(w => new StatusWindow(w.Application, w.Owner, w, null)),
                    .. listed.Unreachable.Select(u => new StatusWindow(u.Application, null, null, u.Error))]
                : [];
            if (all.Error is not null) problems.Add(new StatusProblem("windows", all.Error));
        }
        problems.AddRange(windows.Where(w => w.Error is not null).Select(w => new StatusProblem("window " + w.Application, w.Error!)));
        return new StatusReport(target.Address.ToString(), (await node).Value, (await stats).Value, (await host).Value,
            (await cluster).Value, windows, problems);
    }

    /// <summary>One GET with its own timeout; never throws for a node that fails to answer, it says why instead.</summary>
    private static async Task<Fetched<T>> Part<T>(AdminTarget target, string name, string path, JsonTypeInfo<T> document,
        TimeSpan timeout, CancellationToken cancellationToken) where T : class
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var answer = await AdminApi.SendAsync(HttpMethod.Get, target, path, deadline.Token);
            if (!answer.IsSuccess)
            {
                return new Fetched<T>(name, null, AdminApi.Failure(target, answer), TokenRefused: answer.Status == HttpStatusCode.Unauthorized);
            }
            return new Fetched<T>(name, answer.Read(document), null);
        }
        catch (HttpRequestException e)
        {
            return new Fetched<T>(name, null, $"{target.Address}: unreachable: {e.Message}", Unreachable: true);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Fetched<T>(name, null, $"{target.Address}: no answer within {timeout.TotalSeconds:0.#} s", Unreachable: true);
        }
        catch (JsonException e)
        {
            return new Fetched<T>(name, null, $"{target.Address}: not the document expected: {e.Message}");
        }
    }

    private record Fetched(string Name, string? Error, bool Unreachable, bool TokenRefused);

    private sealed record Fetched<T>(string Name, T? Value, string? Error, bool Unreachable = false, bool TokenRefused = false)
        : Fetched(Name, Error, Unreachable, TokenRefused) where T : class;
}

/// <summary>One application's window, or why it could not be read (its owner node down, a window moving).</summary>
/// <param name="Owner">The node holding it, as the cluster document says; null while it moves.</param>
internal sealed record StatusWindow(string Application, string? Owner, WindowJson? Window, string? Error);

/// <param name="Part">node, stats, host, cluster, windows, or "window APPLICATION".</param>
internal sealed record StatusProblem(string Part, string Error);

internal sealed class AdminUnreachableException(string message) : Exception(message);

internal sealed class AdminTokenRefusedException(string message) : Exception(message);
