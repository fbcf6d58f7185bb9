using System.Net.Http.Json;
using System.Text.Json;

namespace KmsCluster.Testing;

/// <summary>Reads a node's admin API.</summary>
public sealed class AdminClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        // Throws rather than Assert: this library is shared with benchmarks, which have no xunit.
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET {path}: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<(int Status, JsonElement Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>POST without a body (an action); the status and the JSON answer.</summary>
    public async Task<(int Status, JsonElement Body)> PostAsync(string path)
    {
        using var response = await _http.PostAsync(path, content: null);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public Task<JsonElement> WindowAsync(string application) => GetJsonAsync("/api/v1/windows/" + application);

    public void Dispose() => _http.Dispose();
}
