using KmsCluster.Domain;
using static KmsCluster.Actors.Licensing.LedgerProtocol;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests.Serialization;

/// <summary>Full equality of two messages. The records hold arrays and lists, which records compare by
/// reference: those are compared element-wise, every other field with the record's own equality.</summary>
internal static class MessageAssert
{
    private static readonly StoredContact[] NoContacts = [];
    private static readonly RecordedContact[] NoRecorded = [];
    private static readonly ContactRequest[] NoRequests = [];
    private static readonly LedgerHost[] NoHosts = [];
    private static readonly int[] NoCounts = [];

    public static void Same(object expected, object? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.GetType(), actual.GetType());
        switch (expected, actual)
        {
            case (RecordContacts e, RecordContacts a):
                Assert.Equal(e with { Contacts = NoRequests }, a with { Contacts = NoRequests });
                Assert.Equal(e.Contacts, a.Contacts);
                break;
            case (ContactsAccepted e, ContactsAccepted a):
                Assert.Equal(e with { Counts = NoCounts }, a with { Counts = NoCounts });
                Assert.Equal(e.Counts, a.Counts);
                break;
            case (WindowView e, WindowView a):
                Assert.Equal(e with { Contacts = NoContacts }, a with { Contacts = NoContacts });
                Assert.Equal(e.Contacts, a.Contacts);
                break;
            case (ContactsRecorded e, ContactsRecorded a):
                Assert.Equal(e with { Contacts = NoRecorded }, a with { Contacts = NoRecorded });
                Assert.Equal(e.Contacts, a.Contacts);
                break;
            case (WindowSnapshot e, WindowSnapshot a):
                Assert.Equal(e with { Contacts = NoContacts }, a with { Contacts = NoContacts });
                Assert.Equal(e.Contacts, a.Contacts);
                break;
            case (HostActivationResult e, HostActivationResult a):
                Assert.Equal((e.KeyId, e.HostId, e.Outcome), (a.KeyId, a.HostId, a.Outcome));
                Same(e.Ledger, a.Ledger);
                break;
            case (HostKeyLedgerView e, HostKeyLedgerView a):
                Assert.Equal(e with { Hosts = NoHosts }, a with { Hosts = NoHosts });
                Assert.Equal(e.Hosts, a.Hosts);
                break;
            case (HostKeyLedgerSnapshot e, HostKeyLedgerSnapshot a):
                Assert.Equal(e.Hosts, a.Hosts);
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }
}
