namespace KmsCluster.Protocol.Tests;
