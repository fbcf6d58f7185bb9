namespace KmsCluster.Client.Tests;
