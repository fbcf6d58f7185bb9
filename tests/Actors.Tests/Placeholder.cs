namespace KmsCluster.Actors.Tests;
