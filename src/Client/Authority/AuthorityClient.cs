using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using KmsCluster.Protocol.Licensing;

namespace KmsCluster.Client.Authority;

/// <summary>The authority answered: <see cref="AuthorityGranted"/> or <see cref="AuthorityRefusal"/>.</summary>
public abstract record AuthorityAnswer;

/// <summary>The host may serve the key. <paramref name="Outcome"/>: <c>activated</c>, <c>already-active</c> or <c>reactivated</c>.</summary>
public sealed record AuthorityGranted(string Outcome, HostCertificate Certificate) : AuthorityAnswer;

/// <summary>The authority refused: <c>invalid-request</c> (400), <c>host-limit-reached</c> or
/// <c>reactivation-limit-reached</c> (409); <paramref name="Message"/> is its one-line reason.</summary>
public sealed record AuthorityRefusal(int Status, string Code, string Message) : AuthorityAnswer;

/// <summary>No answer from the authority: no connection, TLS failure, timeout, a 5xx (its store away) or an answer
/// that is not the API's. Nothing is known to be decided: ask again later with the same request.</summary>
public sealed class AuthorityUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The client of kms-authority's HTTP API (docs/licensing.md, "The authority service"). A retry of a request should
/// send the same signed request again: the authority counts it once and answers it as before.
/// </summary>
public sealed class AuthorityClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;

    /// <param name="baseAddress">http://HOST:PORT or https://HOST:PORT of the authority.</param>
    /// <param name="handler">e.g. <see cref="PinningHandler"/> for an authority with a self-signed certificate.</param>
    public AuthorityClient(Uri baseAddress, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
    {
        _http = new HttpClient(handler ?? new SocketsHttpHandler(), disposeHandler: true)
        {
            BaseAddress = baseAddress,
            Timeout = timeout ?? DefaultTimeout,
        };
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>A handler that trusts exactly the certificate <paramref name="pinned"/> (compared by its SHA-256),
    /// whoever issued it and whatever host name it names: for an authority with its own self-signed certificate.</summary>
    public static SocketsHttpHandler PinningHandler(X509Certificate2 pinned)
    {
        var expected = pinned.GetCertHash(HashAlgorithmName.SHA256);
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && CryptographicOperations.FixedTimeEquals(
                        certificate.GetCertHash(HashAlgorithmName.SHA256), expected),
            },
        };
    }

    /// <summary>Asks the authority to activate <paramref name="request"/>'s host key for its host.</summary>
    /// <exception cref="AuthorityUnreachableException">no answer (see the type).</exception>
    public async Task<AuthorityAnswer> ActivateAsync(HostActivationRequest request, CancellationToken cancellationToken)
    {
        using var content = new StringContent(request.ToJson(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var (status, body) = await SendAsync(HttpMethod.Post, "api/v1/host-activations", content, cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (status == 200)
            {
                var certificate = HostCertificate.Parse(root.GetProperty("certificate").GetRawText(), $"{BaseAddress} certificate");
                if (certificate.HostId != request.HostId || certificate.KeyId != request.Key.KeyId ||
                    !certificate.HostPublicKey.AsSpan().SequenceEqual(request.HostPublicKey))
                {
                    throw new AuthorityUnreachableException(
                        $"{BaseAddress} answered with a certificate for another host or key ({certificate.KeyId}, {certificate.HostId:D})");
                }
                return new AuthorityGranted(root.GetProperty("outcome").GetString()!, certificate);
            }
            return new AuthorityRefusal(status, root.GetProperty("code").GetString()!, root.GetProperty("message").GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or HostKeyFormatException)
        {
            throw new AuthorityUnreachableException($"{BaseAddress} answered {status} with something that is not the authority API's answer: {e.Message}", e);
        }
    }

    private async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, HttpContent? content,
        CancellationToken cancellationToken)
    {
        try
        {
            using var message = new HttpRequestMessage(method, path) { Content = content };
            using var response = await _http.SendAsync(message, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            if (status >= 500)
            {
                throw new AuthorityUnreachableException($"{BaseAddress} answered {status}: {OneLine(body)}");
            }
            return (status, body);
        }
        catch (HttpRequestException e)
        {
            throw new AuthorityUnreachableException($"{BaseAddress} is unreachable: {e.Message}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AuthorityUnreachableException($"{BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s", e);
        }
    }

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length > 200 ? line[..200] : line;
    }

    public void Dispose() => _http.Dispose();
}
