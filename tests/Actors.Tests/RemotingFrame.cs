using Akka.Actor;
using Akka.TestKit;
using KmsCluster.Actors.Serialization;
using KmsCluster.Domain;
using KmsCluster.Protocol.Wire;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

/// <summary>A window on another node receives a gateway's batches through Akka remoting, which drops a message larger
/// than its frame (128,000 bytes by default) without a word: every batch must fit, however many contacts wait.</summary>
internal static class RemotingFrame
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>Contacts of machines <paramref name="first"/> on, each with the longest workstation name the protocol
    /// carries: the most bytes a contact takes.</summary>
    public static ContactRequest[] Longest(int first, int count, Func<int, string?, ContactRequest> contact) =>
        Enumerable.Range(first, count).Select(machine => contact(machine, new string('w', ProtocolConstants.MaxNameBytes))).ToArray();

    /// <summary>Receives batches until <paramref name="count"/> contacts have come, checks that each one's encoding
    /// keeps within <see cref="RecordContacts.MaxContactBytes"/> (and the message's own few fields), lets
    /// <paramref name="answer"/> answer it, and returns the contacts in the order they came.</summary>
    public static async Task<List<ContactRequest>> ReceiveAsync(TestProbe region, ActorSystem system, int count,
        Action<RecordContacts>? answer = null)
    {
        var serializer = new KmsSerializer((ExtendedActorSystem)system);
        var received = new List<ContactRequest>();
        var batches = 0;
        while (received.Count < count)
        {
            var batch = await region.ExpectMsgAsync<RecordContacts>(Patience);
            var bytes = serializer.ToBinary(batch).Length;
            Assert.True(bytes <= RecordContacts.MaxContactBytes + 64, $"a batch of {batch.Contacts.Length} contacts takes {bytes} bytes");
            received.AddRange(batch.Contacts);
            batches++;
            answer?.Invoke(batch);
        }
        Assert.True(batches > 1, "everything went in one batch: the test sent too few contacts to show anything");
        return received;
    }
}
