using KmsCluster.Protocol.Wire;

namespace KmsCluster.Fuzz.Targets;

/// <summary>
/// The request decoders the node runs on every frame body (<see cref="ActivationRequest.TryRead"/> for v1,
/// <see cref="SignedActivationRequest.TryRead"/> for v2), and the client's decoders of a host's answers (the same
/// input: a body is a body). Contract: a bad body returns false with a reason, never an exception; an accepted
/// request encodes back to exactly the bytes it was read from (one encoding per request, so no two bodies mean the
/// same request and nothing is dropped or altered on the way in).
/// </summary>
internal sealed class RequestDecoderTarget : IFuzzTarget
{
    public string Name => "request-decoder";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (ActivationRequest.TryRead(input, out var v1, out var problem))
        {
            Check(WireSamples.Body(v1).AsSpan().SequenceEqual(input), "v1 request does not encode back to its bytes");
        }
        else
        {
            Check(problem.Length > 0, "v1 request refused without a reason");
        }

        if (SignedActivationRequest.TryRead(input, out var v2, out problem))
        {
            Check(WireSamples.Body(v2).AsSpan().SequenceEqual(input), "v2 request does not encode back to its bytes");
        }
        else
        {
            Check(problem.Length > 0, "v2 request refused without a reason");
        }

        // The client's side: answers from a host it does not trust yet.
        Check(ActivationResponse.TryRead(input, out _, out problem) || problem.Length > 0, "response refused without a reason");
        Check(ErrorResponse.TryRead(input, out _, out problem) || problem.Length > 0, "error refused without a reason");
        Check(SignedActivationResponse.TryRead(input, out _, out _, out problem) || problem.Length > 0,
            "signed response refused without a reason");
        Check(HostCertificateMessage.TryRead(input, out _, out problem) || problem.Length > 0,
            "host certificate refused without a reason");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition) throw new ContractViolation(what);
    }

    public IEnumerable<(string Name, byte[] Bytes)> Seeds(string repoRoot)
    {
        var request = WireSamples.Request;
        yield return ("v1-request", WireSamples.Body(request));
        yield return ("v1-request-empty-name", WireSamples.Body(request with { Workstation = "", IsVirtualMachine = false }));
        yield return ("v2-request", WireSamples.Body(new SignedActivationRequest(WireSamples.Nonce, request)));
        yield return ("response", WireSamples.Body(WireSamples.Response));
        yield return ("error", WireSamples.Body(WireSamples.Error));
    }
}
