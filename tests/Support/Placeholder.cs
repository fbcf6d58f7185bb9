namespace KmsCluster.Testing;
