using Akka.Actor.Setup;
using Akka.Hosting;
using Akka.Hosting.Coordination;

namespace KmsCluster.Node.Clustering;

/// <summary>The split brain resolver's <see cref="PostgresLease"/> as a typed lease option for
/// <see cref="Akka.Cluster.Hosting.SBR.LeaseMajorityOption"/>: its HOCON block, with the lease's timings.</summary>
public sealed class PostgresLeaseOption(string connectionString) : LeaseOptionBase
{
    public override string ConfigPath => "kms-sbr-lease";

    public override Type Class => typeof(PostgresLease);

    public override void Apply(AkkaConfigurationBuilder builder, Setup? setup = null) =>
        builder.AddHocon($$"""
            {{ConfigPath}} {
              lease-class = "{{Class.AssemblyQualifiedName}}"
              connection-string = "{{connectionString.Replace("\\", "\\\\").Replace("\"", "\\\"")}}"
              # A holder that dies blocks the lease for at most this long after its last renewal: it is free again
              # within 3 s of the death, before the survivors' soonest decision (about 1.5 s detection + 1.5 s
              # stable-after), so a failover never waits for it.
              heartbeat-timeout = 3s
              heartbeat-interval = 1s
              # Long enough to wait out a dead holder's last renewal.
              lease-operation-timeout = 7s
            }
            """, HoconAddMode.Prepend);
}
