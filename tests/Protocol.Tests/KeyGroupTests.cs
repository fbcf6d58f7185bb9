using KmsCluster.Protocol.Catalog;

namespace KmsCluster.Protocol.Tests;

/// <summary>Which hosts a key group may be installed on and what it activates there: the catalogue half of
/// deciding whether a host key lets a host serve an edition.</summary>
public sealed class KeyGroupTests
{
    private static readonly KmsApplication Windows = new(Guid.NewGuid(), "windows", "Windows");
    private static readonly Product Client = new(Guid.NewGuid(), "client", "Client", Windows, "Client", ProductKind.WindowsClient, 25);
    private static readonly Product Server = new(Guid.NewGuid(), "server", "Server", Windows, "Server", ProductKind.WindowsServer, 5);
    private static readonly Product Office = new(Guid.NewGuid(), "office", "Office", Windows, "Office", ProductKind.Office, 5);
    private static readonly HostOperatingSystem Srv = new("Srv", HostOsKind.Server);
    private static readonly HostOperatingSystem Desk = new("Desk", HostOsKind.Client);
    private static readonly HostOperatingSystem Elsewhere = new("Elsewhere", HostOsKind.Server);

    private static readonly KeyGroup All = new("All", [Srv, Desk], [Client, Server, Office]);

    [Fact]
    public void A_group_is_hosted_only_on_the_systems_it_lists_whatever_their_case()
    {
        Assert.True(All.CanBeHostedOn(Srv));
        Assert.True(All.CanBeHostedOn(new HostOperatingSystem("dESK", HostOsKind.Client)));
        Assert.False(All.CanBeHostedOn(Elsewhere));
    }

    [Fact]
    public void A_group_covers_exactly_the_editions_it_activates()
    {
        var serverOnly = new KeyGroup("Servers", [Srv], [Server]);

        Assert.True(serverOnly.Covers(Server));
        Assert.False(serverOnly.Covers(Client));
        // The id decides, not the name: a product with a known slug but another id is not covered.
        Assert.False(serverOnly.Covers(Server with { Id = Guid.NewGuid() }));
    }

    [Fact]
    public void On_a_server_host_a_group_activates_all_its_editions_in_catalogue_order()
    {
        Assert.Equal([Client, Server, Office], All.ActivatesOn(Srv));
    }

    [Fact]
    public void On_a_client_host_a_group_activates_everything_but_server_editions()
    {
        Assert.Equal([Client, Office], All.ActivatesOn(Desk));
    }

    [Fact]
    public void On_a_host_the_group_cannot_be_installed_on_it_activates_nothing()
    {
        Assert.Empty(All.ActivatesOn(Elsewhere));
    }

    [Fact]
    public void Only_a_server_host_may_activate_a_server_edition()
    {
        Assert.True(Srv.MayActivate(Server));
        Assert.True(Srv.MayActivate(Client));
        Assert.False(Desk.MayActivate(Server));
        Assert.True(Desk.MayActivate(Client));
        Assert.True(Desk.MayActivate(Office));
    }

    [Fact]
    public void Host_systems_and_groups_show_their_names()
    {
        Assert.Equal(("server", "client"), (Srv.KindName, Desk.KindName));
        Assert.Equal("Srv", Srv.ToString());
        Assert.Equal("All", All.ToString());
        Assert.Equal(["Srv", "Desk"], All.HostableOn.Select(os => os.Name));
        Assert.Equal("All", All.Name);
    }

    [Fact]
    public void A_minimum_update_row_covers_its_client_families_whatever_their_case()
    {
        var row = new MinimumUpdate(Srv, ["Windows 11", "Windows 10"], "KB1", "2021-06");

        Assert.True(row.Covers("windows 11"));
        Assert.True(row.Covers("Windows 10"));
        Assert.False(row.Covers("Windows 7"));
    }
}
