using System.Security.Cryptography.X509Certificates;
using KmsCluster.Authority.Activation;
using KmsCluster.Authority.Configuration;
using KmsCluster.Authority.Http;
using KmsCluster.Authority.Storage;
using KmsCluster.Protocol.Licensing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace KmsCluster.Authority.Commands;

/// <summary>`kms-authority serve`: the HTTP API on Kestrel, over TLS when given a certificate.</summary>
public static partial class ServeCommand
{
    public static async Task<int> RunAsync(ServeOptions options)
    {
        using var authority = CommandSetup.LoadAuthority(options.Store.KeyDirectory);
        using var tls = options.UsesTls ? CommandSetup.LoadTls(options.TlsCertificate!, options.TlsKey!) : null;
        await using var store = await ActivationStores.OpenAsync(options.Store, CancellationToken.None);
        RemoveStale(options.ReadyFile);

        await using var app = Build(options, authority, store, tls);
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            throw new StartupException($"--listen {options.ListenText}: cannot listen: {e.Message.ReplaceLineEndings(" ")}", e);
        }
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var ready = new ReadyDocument(url, authority.Public.Fingerprint, store.Kind, store.Location, Environment.ProcessId);
        if (options.ReadyFile is { } readyFile) WriteReadyFile(readyFile, ready);
        LogReady(app.Logger, url, ready.Authority, store.Kind, store.Location);
        await app.WaitForShutdownAsync();
        return ExitCodes.Ok;
    }

    private static WebApplication Build(ServeOptions options, LicensingAuthority authority, IActivationStore store,
        X509Certificate2? tls)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            ApplicationName = "kms-authority",
        });
        builder.Logging.ClearProviders().AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
            console.UseUtcTimestamp = true;
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = ActivationApi.MaxRequestBytes;
            kestrel.Listen(options.Listen, listen =>
            {
                if (tls is not null) listen.UseHttps(tls);
            });
        });
        builder.Services.AddSingleton(authority);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<HostActivations>();

        var app = builder.Build();
        app.MapStatusApi();
        app.MapActivationApi();
        return app;
    }

    private static void RemoveStale(string? readyFile)
    {
        if (readyFile is not null) File.Delete(readyFile);
    }

    /// <summary>A temporary file renamed over the ready file: a reader sees all of it or nothing.</summary>
    private static void WriteReadyFile(string path, ReadyDocument ready)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temporary, System.Text.Json.JsonSerializer.Serialize(ready, AuthorityJson.Relaxed.ReadyDocument) + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "kms-authority ready: url={Url} authority={Authority} store={Store} location={Location}")]
    private static partial void LogReady(ILogger log, string url, string authority, string store, string location);
}
