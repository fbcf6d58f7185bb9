using KmsCluster.Actors.Windows;
using static KmsCluster.Domain.Tests.TestContacts;
using static KmsCluster.Actors.Windows.WindowProtocol;

namespace KmsCluster.Actors.Tests;

public sealed class WindowMessageExtractorTests
{
    private static readonly Guid Application = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f");
    private readonly WindowMessageExtractor _extractor = new();

    [Fact]
    public void Window_messages_go_to_the_entity_and_shard_of_their_application()
    {
        object[] messages = [new GetWindow(Application), new RecordContacts(Application, 1, [Client(1)])];

        Assert.All(messages, message =>
        {
            Assert.Equal("55c92734d6824d71983ed6ec3f16059f", _extractor.EntityId(message));
            Assert.Equal("55c92734d6824d71983ed6ec3f16059f", _extractor.ShardId(message));
            Assert.Same(message, _extractor.EntityMessage(message));
        });
        // The entity id is what the window actor parses back.
        Assert.Equal(Application, Guid.ParseExact(WindowMessageExtractor.EntityIdOf(Application), "N"));
    }

    [Fact]
    public void Other_messages_have_no_entity_and_no_shard()
    {
        var reply = new ContactsAccepted(1, Start, [1]);

        Assert.Null(_extractor.EntityId(reply));
        Assert.Throws<ArgumentException>(() => _extractor.ShardId(reply));
    }
}
