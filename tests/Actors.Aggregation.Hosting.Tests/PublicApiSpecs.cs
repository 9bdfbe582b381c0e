using Actors.Aggregation.Hosting;
using Actors.Tests.Shared;
using Xunit;

namespace Actors.Aggregation.Hosting.Tests;

/// <summary>Keeps accidental changes to the hosting library's public surface visible: any change must update the approved file in the same commit.</summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void The_hosting_public_API_must_match_the_approved_file() =>
        PublicApiApproval.Verify(typeof(AggregatorOptions).Assembly, "Actors.Aggregation.Hosting.approved.txt");
}
