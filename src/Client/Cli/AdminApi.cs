using System.Net;
using System.Text.Json;
using KmsCluster.Client.Connection;

namespace KmsCluster.Client.Cli;

/// <summary>GET on a node's admin HTTP API, shared by <c>kms window</c> and <c>kms cluster</c>.</summary>
internal static class AdminApi
{
    public const int DefaultPort = 8688;
    public const string DefaultEndpoint = "127.0.0.1:8688";

    /// <exception cref="HttpRequestException">the admin API is unreachable.</exception>
    /// <exception cref="TaskCanceledException">no answer in time.</exception>
    public static async Task<(HttpStatusCode Status, string Body)> GetAsync(ServerAddress admin, string path,
        CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin}"), Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return (response.StatusCode, body);
    }

    /// <summary>The <c>error</c> text of a JSON error body, or the body itself.</summary>
    public static string ErrorText(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object &&
                   document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                ? error.GetString()!
                : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
