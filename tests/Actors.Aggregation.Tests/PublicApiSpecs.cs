using Actors.Tests.Shared;
using Xunit;

namespace Actors.Aggregation.Tests;

/// <summary>Keeps accidental changes to the public surface visible: any change must update the approved file in the same commit.</summary>
public sealed class PublicApiSpecs
{
    [Fact]
    public void The_public_API_must_match_the_approved_file() =>
        PublicApiApproval.Verify(typeof(Aggregation).Assembly, "Actors.Aggregation.approved.txt");
}
