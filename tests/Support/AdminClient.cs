using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Testing;

/// <summary>Reads a node's admin API as the records of KmsCluster.Protocol.Admin, with the context the node writes them
/// with, sending <paramref name="token"/> as its bearer token (none when null).</summary>
public sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;

    public AdminClient(Uri baseAddress, string? token)
    {
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            _http.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", AdminAuth.AuthorizationValue(token));
        }
    }

    /// <summary>A node's admin API with the token from its data directory.</summary>
    public AdminClient(NodeProcess node) : this(node.AdminUri, node.AdminToken)
    {
    }

    public Task<HealthJson> HealthAsync() => GetAsync("/healthz", AdminJson.Http.HealthJson);

    /// <summary>Every window; throws when one could not be reached (tests that expect that read <see cref="WindowListAsync"/>).</summary>
    public async Task<IReadOnlyList<WindowJson>> WindowsAsync()
    {
        var all = await WindowListAsync();
        return all.Unreachable.Count == 0
            ? all.Windows
            : throw new InvalidOperationException("windows not reached: " + string.Join("; ", all.Unreachable.Select(u => $"{u.Application}: {u.Error}")));
    }

    public Task<WindowsJson> WindowListAsync() => GetAsync("/api/v1/windows", AdminJson.Http.WindowsJson);

    public Task<WindowJson> WindowAsync(string application) => GetAsync("/api/v1/windows/" + application, AdminJson.Http.WindowJson);

    public Task<ClusterJson> ClusterAsync() => GetAsync("/api/v1/cluster", AdminJson.Http.ClusterJson);

    public Task<StatsJson> StatsAsync() => GetAsync("/api/v1/stats", AdminJson.Http.StatsJson);

    public Task<HostJson> HostAsync() => GetAsync("/api/v1/host", AdminJson.Http.HostJson);

    public Task<DnsStatusJson> DnsAsync() => GetAsync("/api/v1/host/dns", AdminJson.Http.DnsStatusJson);

    public Task<IReadOnlyList<HostKeyLedgerJson>> HostKeysAsync() =>
        GetAsync("/api/v1/host-keys", AdminJson.Http.IReadOnlyListHostKeyLedgerJson);

    /// <summary>POST .../reactivate: 200 when re-activated, 409 when refused; both answer a <see cref="ReactivationJson"/>.</summary>
    public Task<(int Status, ReactivationJson Body)> ReactivateAsync(string keyId) =>
        SendAsync(HttpMethod.Post, $"/api/v1/host-keys/{keyId}/reactivate", AdminJson.Http.ReactivationJson);

    /// <summary>One page of the client registry; <paramref name="query"/> is the query string without '?'.</summary>
    public Task<ClientsPageJson> ClientsAsync(string query = "") =>
        GetAsync("/api/v1/clients" + (query.Length > 0 ? "?" + query : ""), AdminJson.Http.ClientsPageJson);

    /// <summary>The document at <paramref name="path"/>; throws on an error status.</summary>
    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> document)
    {
        using var response = await _http.GetAsync(path);
        // Throws rather than Assert: this library is shared with benchmarks, which have no xunit.
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new HttpRequestException($"GET {path}: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        return await ReadAsync(response, path, document);
    }

    /// <summary>Any status: the status and the body as <typeparamref name="T"/> (an <see cref="ErrorJson"/> for
    /// most error statuses, a <see cref="HealthJson"/> for /healthz's 503).</summary>
    public async Task<(int Status, T Body)> SendAsync<T>(HttpMethod method, string path, JsonTypeInfo<T> document)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await ReadAsync(response, path, document));
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, string path, JsonTypeInfo<T> document) =>
        await response.Content.ReadFromJsonAsync(document) ?? throw new InvalidDataException($"{path}: the answer is null");

    public void Dispose() => _http.Dispose();
}
