using System.Net;
using System.Text.Json;
using KmsCluster.Client.Connection;

namespace KmsCluster.Cli;

/// <summary>A node's admin HTTP API, shared by <c>kms window</c>, <c>kms cluster</c> and <c>kms keys</c>.</summary>
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

    /// <summary>
    /// The whole of a command that shows one admin API path (<c>kms cluster</c>, <c>kms keys status</c>): with
    /// <paramref name="json"/> the answer as it came, else <paramref name="print"/> shows it and returns null, or a
    /// reason when the answer is not what it expects. Exit codes: 2 an error status, 3 unreachable or unreadable,
    /// 4 a bad address.
    /// </summary>
    public static async Task<int> ShowAsync(CliOutput output, string adminText, string path, bool json,
        Func<JsonElement, string?> print, CancellationToken cancellationToken)
    {
        try
        {
            var address = ServerAddresses.ParseOrThrow(adminText, DefaultPort);
            var (status, body) = await GetAsync(address, path, cancellationToken);
            if ((int)status is < 200 or > 299)
            {
                return output.Fail(ExitCodes.Refused, $"{address}: {(int)status} {ErrorText(body)}");
            }
            if (json)
            {
                output.Out.WriteLine(body);
                return ExitCodes.Activated;
            }
            using var document = JsonDocument.Parse(body);
            return print(document.RootElement) is { } problem
                ? output.Fail(ExitCodes.Unreachable, $"{address}: {problem}")
                : ExitCodes.Activated;
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

    /// <summary>POST without a body (an action, such as a re-activation).</summary>
    public static async Task<(HttpStatusCode Status, string Body)> PostAsync(ServerAddress admin, string path,
        CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin}"), Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.PostAsync(path, content: null, cancellationToken);
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
