using System.CommandLine;
using KmsCluster.Client.Connection;
using KmsCluster.Protocol.Admin;

namespace KmsCluster.Cli;

/// <summary>A node's admin API and the bearer token to send it, and where the token came from (for messages).</summary>
internal sealed record AdminTarget(ServerAddress Address, string Token, string TokenSource);

/// <summary>
/// The options of every command that calls the admin API: <c>--admin HOST:PORT</c>, and the token from
/// <c>--token</c>, else the environment variable <see cref="TokenVariable"/>, else the node's data directory
/// (<c>--data DIR</c>, default <c>./data</c> as for kms-node): <c>DIR/admin-token</c>.
/// </summary>
internal sealed class AdminOptions
{
    public const string TokenVariable = "KMS_ADMIN_TOKEN";

    public Option<string> Admin { get; } =
        new("--admin") { Description = "the node's admin endpoint HOST:PORT", DefaultValueFactory = _ => AdminApi.DefaultEndpoint };

    public Option<string> Data { get; } =
        new("--data") { Description = $"the node's data directory, whose {AdminAuth.TokenFile} file holds the admin token", DefaultValueFactory = _ => "./data" };

    public Option<string?> Token { get; } =
        new("--token") { Description = $"the admin API's bearer token (instead of the data directory's; or {TokenVariable})" };

    public IEnumerable<Option> All => [Admin, Data, Token];

    /// <exception cref="UsageException">a bad address, or no token anywhere.</exception>
    public AdminTarget Resolve(ParseResult result)
    {
        var address = ServerAddresses.ParseOrThrow(result.GetValue(Admin)!, AdminApi.DefaultPort);
        if (result.GetValue(Token) is { Length: > 0 } given)
        {
            return new AdminTarget(address, given.Trim(), "--token");
        }
        if (Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } variable)
        {
            return new AdminTarget(address, variable.Trim(), TokenVariable);
        }
        var file = Path.GetFullPath(Path.Combine(result.GetValue(Data)!, AdminAuth.TokenFile));
        string token;
        try
        {
            token = File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UsageException($"no admin token: {file} does not exist; give --data DIR (the node's data directory), --token TOKEN or {TokenVariable}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"no admin token: cannot read {file}: {e.Message}");
        }
        return token.Length > 0 ? new AdminTarget(address, token, file) : throw new UsageException($"no admin token: {file} is empty");
    }
}
