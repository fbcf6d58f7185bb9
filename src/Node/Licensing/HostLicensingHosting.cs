using Akka.Hosting;
using KmsCluster.Actors.Entities;
using KmsCluster.Actors.Hosting;
using KmsCluster.Actors.Licensing;

namespace KmsCluster.Node.Licensing;

/// <summary>This host's licence (<see cref="HostLicence"/>), its activation in the cluster's host key ledgers
/// (<see cref="HostKeyActivation"/>, started with the host) and the sharded ledgers themselves.</summary>
public static class HostLicensingHosting
{
    /// <summary>Call after AddAkka: the activation asks the ledgers, so it starts after the actor system.</summary>
    public static IServiceCollection AddHostLicensing(this IServiceCollection services)
    {
        services.AddSingleton<HostLicence>();
        services.AddSingleton<HostCertificates>();
        services.AddSingleton<HostKeyActivation>();
        services.AddHostedService(sp => sp.GetRequiredService<HostKeyActivation>());
        services.AddSingleton<AuthorityActivation>();
        services.AddHostedService(sp => sp.GetRequiredService<AuthorityActivation>());
        return services;
    }

    public static AkkaConfigurationBuilder AddHostKeyLedgerActors(this AkkaConfigurationBuilder akka, IWriteFence fence,
        TimeProvider time) =>
        akka.AddHostKeyLedgers(LedgerSettings.Default with { Fence = fence }, time);
}
