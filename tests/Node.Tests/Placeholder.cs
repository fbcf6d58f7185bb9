namespace KmsCluster.Node.Tests;
