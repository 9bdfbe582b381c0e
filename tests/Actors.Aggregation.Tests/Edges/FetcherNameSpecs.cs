using System.Text.RegularExpressions;
using Actors.Tests.Shared;
using Akka.Actor;
using Xunit;
using Xunit.Abstractions;

namespace Actors.Aggregation.Tests.Edges;

/// <summary>
/// Fetcher names are any distinct strings. Two names that differ only in lone surrogates (or a lone surrogate and U+FFFD)
/// escape to the same text with Uri.EscapeDataString; they must still run as two fetchers, with one reply.
/// </summary>
public sealed class FetcherNameSpecs(ITestOutputHelper output) : AggregationSpec(output)
{
    // Written escaped and unescaped at run time: a lone surrogate does not survive an attribute's UTF-8 encoding.
    [Theory]
    [InlineData(@"\uD800", @"\uDBFF")]
    [InlineData(@"\uD800x", @"\uDC00x")]
    [InlineData(@"\uFFFD", @"\uDFFF")]
    public async Task Distinct_names_that_escape_alike_must_each_run_and_give_exactly_one_reply(string escapedFirst, string escapedSecond)
    {
        var first = Regex.Unescape(escapedFirst);
        var second = Regex.Unescape(escapedSecond);
        Assert.NotEqual(first, second, StringComparer.Ordinal);
        Output.WriteLine($"escaped: '{Uri.EscapeDataString(first)}' and '{Uri.EscapeDataString(second)}'");
        var definition = Aggregation.For<int>()
            .Fetch(first, (int _, CancellationToken _) => Task.FromResult("one"))
            .Fetch(second, (int _, CancellationToken _) => Task.FromResult("two"))
            .WithTimeout(TimeSpan.FromSeconds(2))
            .Build();
        Assert.Equal(new[] { first, second }, definition.FetcherNames);
        var aggregator = Sys.ActorOf(AggregatorActor.Props(definition));

        aggregator.Tell(new Aggregate<int>(1) { RequestId = "surrogates" });

        var reply = await ExpectMsgAsync<AggregateSucceeded<string>>(Generous);
        Assert.Equal("surrogates", reply.RequestId);
        Assert.Equal("one | two", reply.Result);
        await ExpectNoMsgAsync(Ms(300));
        await AwaitQuietAsync(aggregator);
    }
}
