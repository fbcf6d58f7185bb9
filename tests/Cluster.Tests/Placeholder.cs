namespace KmsCluster.Cluster.Tests;
