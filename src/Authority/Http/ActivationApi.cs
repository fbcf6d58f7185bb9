using System.Text;
using System.Text.Json;
using KmsCluster.Authority.Activation;
using KmsCluster.Authority.Storage;
using Microsoft.AspNetCore.Http.Features;

namespace KmsCluster.Authority.Http;

/// <summary>POST /api/v1/host-activations: a host activation request in, a host certificate (or the refusal) out.</summary>
public static partial class ActivationApi
{
    /// <summary>Far more than a request needs (about 2 KB); a larger body is refused before it is read.</summary>
    public const int MaxRequestBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapActivationApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/host-activations", async (HttpContext context, HostActivations activations, ILoggerFactory logs) =>
        {
            var log = logs.CreateLogger("KmsCluster.Authority.Activations");
            string body;
            try
            {
                body = await ReadBodyAsync(context);
            }
            catch (BadHttpRequestException e)
            {
                return Error(StatusCodes.Status400BadRequest, ActivationRefused.InvalidRequest, e.Message);
            }
            ActivationAnswer answer;
            try
            {
                answer = await activations.AnswerAsync(body, "request", context.RequestAborted);
            }
            catch (StoreUnavailableException e)
            {
                LogStoreFailed(log, e.Message);
                return Error(StatusCodes.Status503ServiceUnavailable, "store-unavailable", e.Message);
            }
            switch (answer)
            {
                case ActivationGranted granted:
                    LogGranted(log, granted.Certificate.KeyId, granted.Certificate.HostId, granted.Outcome);
                    return Results.Text(GrantedJson(granted), "application/json", Encoding.UTF8, StatusCodes.Status200OK);
                case ActivationRefused refused:
                    LogRefused(log, refused.Code, refused.Message);
                    return Error(refused.Status, refused.Code, refused.Message);
                default:
                    throw new InvalidOperationException($"unknown answer {answer}");
            }
        });
        return app;
    }

    /// <summary>{"outcome": "...", "certificate": {the certificate document}}.</summary>
    public static string GrantedJson(ActivationGranted granted)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("outcome", granted.Outcome);
            writer.WritePropertyName("certificate");
            writer.WriteRawValue(granted.Certificate.ToJson());
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static IResult Error(int status, string code, string message) =>
        Results.Json(new ApiError(code, message), AuthorityJson.Relaxed.ApiError, statusCode: status);

    private static async Task<string> ReadBodyAsync(HttpContext context)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxRequestBytes;
        }
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(context.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "host activation: key {KeyId} host {HostId}: {Outcome}")]
    private static partial void LogGranted(ILogger log, string keyId, Guid hostId, string outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "host activation refused ({Code}): {Reason}")]
    private static partial void LogRefused(ILogger log, string code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "host activation not answered: {Reason}")]
    private static partial void LogStoreFailed(ILogger log, string reason);
}
