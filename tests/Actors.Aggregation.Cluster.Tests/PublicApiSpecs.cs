using Actors.Tests.Shared;
using Xunit;

namespace Actors.Aggregation.Cluster.Tests;

/// <summary>Keeps accidental changes to the cluster library's public surface visible: any change must update the approved file in the same commit.</summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void The_cluster_public_API_must_match_the_approved_file() =>
        PublicApiApproval.Verify(typeof(ClusterAggregatorFront).Assembly, "Actors.Aggregation.Cluster.approved.txt");
}
