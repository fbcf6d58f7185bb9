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
    private static readonly TraceContext[] NoTraces = [];

    public static void Same(object expected, object? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.GetType(), actual.GetType());
        switch (expected, actual)
        {
            case (RecordContacts e, RecordContacts a):
                SameWithout(e, a, m => m with { Contacts = NoRequests, Traces = NoTraces }, m => m.Contacts);
                Assert.Equal(e.Traces, a.Traces);
                break;
            case (ContactsAccepted e, ContactsAccepted a):
                SameWithout(e, a, m => m with { Counts = NoCounts }, m => m.Counts);
                break;
            case (WindowView e, WindowView a):
                SameWithout(e, a, m => m with { Contacts = NoContacts }, m => m.Contacts);
                break;
            case (ContactsRecorded e, ContactsRecorded a):
                SameWithout(e, a, m => m with { Contacts = NoRecorded }, m => m.Contacts);
                break;
            case (WindowSnapshot e, WindowSnapshot a):
                SameWithout(e, a, m => m with { Contacts = NoContacts }, m => m.Contacts);
                break;
            case (HostActivationResult e, HostActivationResult a):
                Assert.Equal((e.KeyId, e.HostId, e.Outcome), (a.KeyId, a.HostId, a.Outcome));
                Same(e.Ledger, a.Ledger);
                break;
            case (HostKeyLedgerView e, HostKeyLedgerView a):
                SameWithout(e, a, m => m with { Hosts = NoHosts }, m => m.Hosts);
                break;
            case (HostKeyLedgerSnapshot e, HostKeyLedgerSnapshot a):
                Assert.Equal(e.Hosts, a.Hosts);
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }

    /// <summary>The record with its collection swapped for an empty one, then the collection element-wise.</summary>
    private static void SameWithout<T, TItem>(T expected, T actual, Func<T, T> withoutItems, Func<T, IEnumerable<TItem>> items)
    {
        Assert.Equal(withoutItems(expected), withoutItems(actual));
        Assert.Equal(items(expected), items(actual));
    }
}
