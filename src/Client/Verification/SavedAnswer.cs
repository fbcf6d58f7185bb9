using System.Text.Json;
using System.Text.Json.Nodes;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Wire;

namespace KmsCluster.Client.Verification;

/// <summary>
/// A signed answer kept in a file (<c>kms activate --save</c>) so that <c>kms verify</c> can check it later, offline:
/// JSON with <c>format</c> (kmscluster-signed-answer/1), <c>server</c>, <c>sentNonce</c> (32 hex digits),
/// <c>answer</c> (base64 of the v2 response body as it came) and <c>certificate</c> (the host certificate document).
/// </summary>
public static class SavedAnswer
{
    public const string Format = "kmscluster-signed-answer/1";

    public static string ToJson(SignedAnswer answer, string server)
    {
        var writer = new System.Buffers.ArrayBufferWriter<byte>();
        FrameWriter.Write(writer, 0, answer.Proof);
        var document = new JsonObject
        {
            ["format"] = Format,
            ["server"] = server,
            ["sentNonce"] = SignedAnswerContent.FormatNonce(answer.SentNonce),
            ["answer"] = Convert.ToBase64String(writer.WrittenSpan[ProtocolConstants.HeaderSize..]),
            ["certificate"] = answer.Certificate is null ? null : JsonNode.Parse(answer.Certificate.ToJson()),
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>Reads a saved answer; <see cref="FormatException"/> says what is wrong with the file.</summary>
    public static SignedAnswer Parse(string json, string source)
    {
        try
        {
            var document = JsonNode.Parse(json)?.AsObject() ?? throw new FormatException($"{source}: not a JSON object");
            if ((string?)document["format"] != Format) throw new FormatException($"{source}: format is not {Format}");
            var nonce = UInt128.Parse((string?)document["sentNonce"] ?? "", System.Globalization.NumberStyles.HexNumber,
                System.Globalization.CultureInfo.InvariantCulture);
            var body = Convert.FromBase64String((string?)document["answer"] ?? "");
            if (!SignedActivationResponse.TryRead(body, out var proof, out var content, out var error))
            {
                throw new FormatException($"{source}: the answer does not decode: {error}");
            }
            var certificate = document["certificate"] is { } node ? HostCertificate.Parse(node.ToJsonString(), source) : null;
            return new SignedAnswer(nonce, content!, proof, certificate);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or HostKeyFormatException or OverflowException ||
                                  e is FormatException && !e.Message.StartsWith(source, StringComparison.Ordinal))
        {
            throw new FormatException($"{source}: not a saved answer: {e.Message}");
        }
    }
}
