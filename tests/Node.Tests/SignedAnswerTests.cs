using System.Buffers;
using System.Net;
using System.Net.Sockets;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Licensing;
using KmsCluster.Protocol.Signing;
using KmsCluster.Protocol.Wire;
using KmsCluster.Testing;

namespace KmsCluster.Node.Tests;

/// <summary>Issue 13 end to end, real processes and sockets: signed answers, v1 refused by default, clients that
/// believe only answers chaining to the authority they trust.</summary>
public class SignedAnswerTests
{
    private static ActivationRequest Request() => new(Guid.NewGuid(), Guid.Parse("26256b66-aecf-5843-8c19-11e0c33ded51"),
        Guid.Parse("91dd771e-a4d0-554c-8b1b-759f25ef7df8"), 25, LicenseState.InitialGrace, 43200, false, "pc-1", DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_v1_client_gets_a_clear_error_from_a_default_node_and_an_unsigned_answer_with_allow_unsigned()
    {
        using var data = new TempDirectory();
        await using (var node = await NodeProcess.StartAsync(data.Path))
        {
            await using var v1 = await KmsConnection.ConnectAsync("127.0.0.1", node.ActivationPort, TimeSpan.FromSeconds(10), version: 1);
            var refused = await v1.ActivateAsync(Request(), TimeSpan.FromSeconds(10));
            Assert.True(refused.IsError);
            Assert.Equal(ErrorCode.UnsupportedVersion, refused.Error.Code);
            Assert.Contains("this host signs its answers: use protocol v2", refused.Error.Message);

            await using var v2 = await KmsConnection.ConnectAsync("127.0.0.1", node.ActivationPort, TimeSpan.FromSeconds(10));
            var signed = await v2.ActivateAsync(Request(), TimeSpan.FromSeconds(10));
            Assert.False(signed.IsError, signed.ToString());
            Assert.NotNull(signed.Signed?.Certificate);
        }
        using var other = new TempDirectory();
        await using var lenient = await NodeProcess.StartAsync(other.Path, "--allow-unsigned");
        await using var connection = await KmsConnection.ConnectAsync("127.0.0.1", lenient.ActivationPort, TimeSpan.FromSeconds(10), version: 1);
        var answer = await connection.ActivateAsync(Request(), TimeSpan.FromSeconds(10));
        Assert.False(answer.IsError, answer.ToString());
        Assert.Null(answer.Signed);
    }

    [Fact]
    public async Task A_node_without_a_certificate_refuses_v2_with_host_not_certified()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path, NodeProcess.Uncertified);
        await using var connection = await KmsConnection.ConnectAsync("127.0.0.1", node.ActivationPort, TimeSpan.FromSeconds(10));
        var answer = await connection.ActivateAsync(Request(), TimeSpan.FromSeconds(10));
        Assert.Equal(ErrorCode.HostNotCertified, answer.Error.Code);
        Assert.Contains("no valid host certificate", answer.Error.Message);
        Assert.True(File.Exists(Path.Combine(data.Path, "host-signing.key")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(data.Path, "host-signing.key")));
        }
    }

    [Fact]
    public async Task A_saved_answer_verifies_offline_and_a_tampered_one_does_not()
    {
        using var data = new TempDirectory();
        await using var node = await NodeProcess.StartAsync(data.Path);
        var saved = Path.Combine(data.Path, "answer.json");
        var (exit, stdout, stderr) = await KmsCli.RunAsync("activate", "--server", node.ActivationEndpoint, "--product", "windows-server-2025-standard",
            "--authority-key", DemoLicence.AuthorityPublicKey, "--save", saved);
        Assert.True(exit == 1, stdout + stderr);
        (exit, stdout, stderr) = await KmsCli.RunAsync("verify", saved, "--authority-key", DemoLicence.AuthorityPublicKey);
        Assert.True(exit == 0, stdout + stderr);
        Assert.StartsWith("valid: not activated", stdout);

        var document = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(saved))!;
        var bytes = Convert.FromBase64String(document["answer"]!.GetValue<string>());
        bytes[2 + 66] ^= 0x01; // a byte of the signed content (its host time)
        document["answer"] = Convert.ToBase64String(bytes);
        await File.WriteAllTextAsync(saved, document.ToJsonString());
        (exit, _, stderr) = await KmsCli.RunAsync("verify", saved, "--authority-key", DemoLicence.AuthorityPublicKey);
        Assert.Equal(2, exit);
        Assert.Contains("forged", stderr);
    }

    [Theory]
    [InlineData(1, "unsigned")]
    [InlineData(2, "unknown authority")]
    [InlineData(3, "forged")]
    public async Task A_fake_host_is_refused_by_kms_activate(int kind, string reason)
    {
        using var fake = new FakeSigningHost(kind);
        var (exit, stdout, stderr) = await KmsCli.RunAsync("activate", "--server", fake.Endpoint, "--product", "windows-11-enterprise",
            "--authority-key", DemoLicence.AuthorityPublicKey, "--timeout", "5");
        Assert.True(exit == 2, stdout + stderr);
        Assert.Contains(reason, stderr);
    }

    /// <summary>A plain socket that answers "activated": kind 1 in v1 form; 2 signed under a certificate of its own
    /// authority; 3 with the demo authority's genuine certificate for another key than the one that signed.</summary>
    private sealed class FakeSigningHost : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _kind;
        private readonly TempDirectory _directory = new();

        public FakeSigningHost(int kind)
        {
            _kind = kind;
            _listener.Start();
            _ = Task.Run(ServeAsync);
        }

        public string Endpoint => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        private async Task ServeAsync()
        {
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptTcpClientAsync();
                    var stream = client.GetStream();
                    var buffer = new byte[4096];
                    var received = 0;
                    Frame frame;
                    while (!FrameReader.TryParse(new ReadOnlySequence<byte>(buffer, 0, received), out _, out _, out frame))
                    {
                        received += await stream.ReadAsync(buffer.AsMemory(received));
                    }
                    var output = new ArrayBufferWriter<byte>();
                    Answer(frame, output);
                    await stream.WriteAsync(output.WrittenMemory);
                    await Task.Delay(500);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
            }
        }

        private void Answer(in Frame frame, ArrayBufferWriter<byte> output)
        {
            var body = frame.Body.ToArray();
            SignedActivationRequest.TryRead(body, out var request, out _);
            var now = DateTimeOffset.UtcNow;
            var hostId = Guid.NewGuid();
            var response = new ActivationResponse(request.Request.ClientMachineId, hostId, "fake", now, 25, 25, true, now.AddDays(180), 120, 10080);
            if (_kind == 1)
            {
                FrameWriter.Write(output, frame.RequestId, response);
                return;
            }
            using var signer = HostSigningKey.CreateEphemeral();
            using var certified = HostSigningKey.CreateEphemeral();
            using var authority = _kind == 2
                ? LicensingAuthority.Create(Path.Combine(_directory.Path, Guid.NewGuid().ToString("N")))
                : LicensingAuthority.Load(DemoLicence.Directory);
            var key = HostKey.Load(DemoLicence.WindowsKey);
            var certificate = authority.Certify(key, hostId, (_kind == 2 ? signer : certified).PublicKey, now);
            var content = new SignedAnswerContent(request.Nonce, request.Request.ProductId, key.KeyId, response).Encode();
            var tree = MerkleTree.Build([MerkleTree.LeafHash(content)]);
            FrameWriter.Write(output, frame.RequestId, HostCertificateMessage.Of(certificate));
            FrameWriter.Write(output, frame.RequestId, new SignedActivationResponse(content, 0, 1, tree.Path(0),
                signer.Sign(SignedActivationResponse.SignedMessage(tree.Root))));
        }

        public void Dispose()
        {
            _listener.Stop();
            _directory.Dispose();
        }
    }
}
