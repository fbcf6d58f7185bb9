using System.CommandLine;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Cli;

/// <summary>
/// A node's admin HTTP API, shared by <c>kms window</c>, <c>kms cluster</c> and <c>kms keys</c>. Answers are read as
/// the records of KmsCluster.Protocol.Admin with <see cref="AdminJson"/>, the context the node writes them with.
/// </summary>
internal static class AdminApi
{
    public const int DefaultPort = 8688;
    public const string DefaultEndpoint = "127.0.0.1:8688";

    /// <summary>
    /// Sends one request (a GET, a POST that is an action such as a re-activation, or a PUT of a document). The answer is
    /// kept as it came: <c>--json</c> prints it untouched, and an error answer holds an <see cref="ErrorJson"/>.
    /// </summary>
    /// <exception cref="HttpRequestException">the admin API is unreachable.</exception>
    /// <exception cref="TaskCanceledException">no answer in time.</exception>
    public static async Task<AdminAnswer> SendAsync(HttpMethod method, AdminTarget admin, string path,
        CancellationToken cancellationToken, HttpContent? body = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{admin.Address}"), Timeout = TimeSpan.FromSeconds(15) };
        using var request = new HttpRequestMessage(method, path) { Content = body };
        request.Headers.TryAddWithoutValidation("Authorization", AdminAuth.AuthorizationValue(admin.Token));
        using var response = await http.SendAsync(request, cancellationToken);
        return new AdminAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>
    /// The whole of a command that shows one admin API document (<c>kms window</c>, <c>kms cluster</c>,
    /// <c>kms keys status</c>): with <paramref name="json"/> the answer as it came, else <paramref name="print"/>
    /// shows it. Exit codes: 2 an error status, the admin token refused (401) included (4 for 404 when
    /// <paramref name="notFoundIsUsage"/>: the user named something the node does not have), 3 unreachable or
    /// unreadable, 4 a bad address or no token.
    /// </summary>
    public static async Task<int> ShowAsync<T>(CliOutput output, AdminOptions admin, ParseResult result, string path,
        bool json, JsonTypeInfo<T> document, Action<T> print, CancellationToken cancellationToken, bool notFoundIsUsage = false,
        Func<T, int>? exitCode = null)
    {
        try
        {
            var target = admin.Resolve(result);
            var answer = await SendAsync(HttpMethod.Get, target, path, cancellationToken);
            if (!answer.IsSuccess)
            {
                return output.Fail(notFoundIsUsage && answer.Status == HttpStatusCode.NotFound ? ExitCodes.Usage : ExitCodes.Refused,
                    Failure(target, answer));
            }
            var read = answer.Read(document);
            if (json)
            {
                output.Out.WriteLine(answer.Body);
            }
            else
            {
                print(read);
            }
            // What the document says can decide the exit code (a part of it missing), in both forms.
            return exitCode?.Invoke(read) ?? ExitCodes.Activated;
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

    /// <summary>An error answer in one line; a 401 names where the refused token came from.</summary>
    public static string Failure(AdminTarget target, AdminAnswer answer) => answer.Status == HttpStatusCode.Unauthorized
        ? $"{target.Address}: 401 the node refused the admin token from {target.TokenSource}"
        : $"{target.Address}: {(int)answer.Status} {answer.ErrorText()}";

    /// <summary>
    /// A text field for display, "?" when absent: a node one version apart may omit a field, which System.Text.Json
    /// then leaves null whatever the record says; show that rather than fail.
    /// </summary>
    public static string Shown(string? text, string missing = "?") => text ?? missing;
}

/// <summary>One answer of the admin API: its status and its body as it came.</summary>
internal sealed record AdminAnswer(HttpStatusCode Status, string Body)
{
    public bool IsSuccess => (int)Status is >= 200 and <= 299;

    /// <exception cref="JsonException">the body is not a <typeparamref name="T"/>.</exception>
    public T Read<T>(JsonTypeInfo<T> document) =>
        JsonSerializer.Deserialize(Body, document) ?? throw new JsonException($"the answer is null, not a {typeof(T).Name}");

    /// <summary>The <c>error</c> text of an <see cref="ErrorJson"/> body, or the body itself.</summary>
    public string ErrorText()
    {
        try
        {
            return JsonSerializer.Deserialize(Body, AdminJson.Http.ErrorJson)?.Error ?? Body;
        }
        catch (JsonException)
        {
            return Body;
        }
    }
}
