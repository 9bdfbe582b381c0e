using Xunit;

namespace Actors.Aggregation.Tests;

/// <summary>i. A definition is validated when built; mistakes are ArgumentExceptions that say what is wrong.</summary>
public sealed class DefinitionSpecs
{
    private static Task<string> Ok(int key, CancellationToken _) => Task.FromResult("ok");

    [Fact]
    public void Build_must_reject_a_definition_without_fetchers()
    {
        var error = Assert.Throws<ArgumentException>(() => Aggregation.For<int>().Build());
        Assert.Contains("at least one fetcher", error.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(null)]
    public void Build_must_reject_an_empty_fetcher_name(string? name)
    {
        var error = Assert.Throws<ArgumentException>(() => Aggregation.For<int>().Fetch(name!, Ok).Build());
        Assert.Contains("empty name", error.Message);
    }

    [Fact]
    public void Build_must_reject_a_duplicate_fetcher_name()
    {
        var error = Assert.Throws<ArgumentException>(() => Aggregation.For<int>().Fetch("a", Ok).Fetch("a", Ok).Build());
        Assert.Contains("'a' is used twice", error.Message);
    }

    [Fact]
    public void Build_must_reject_a_null_fetch_delegate()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("a", (Func<int, CancellationToken, Task<string>>)null!).Build());
        Assert.Contains("'a' has a null fetch delegate", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Build_must_reject_a_non_positive_timeout(int milliseconds)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Aggregation.For<int>().Fetch("a", Ok).WithTimeout(TimeSpan.FromMilliseconds(milliseconds)).Build());
        Assert.Contains("timeout must be positive", error.Message);
    }

    [Fact]
    public void Build_must_reject_a_null_combine()
    {
        Assert.Throws<ArgumentException>(() => Aggregation.For<int>().Fetch("a", Ok).Combine((Func<AggregationParts, int>)null!).Build());
    }

    [Fact]
    public void A_definition_must_keep_declared_order_and_builders_must_be_immutable()
    {
        var two = Aggregation.For<int>().Fetch("profile", Ok).Fetch("orders", Ok);
        var three = two.Fetch("extra", Ok);

        Assert.Equal(new[] { "profile", "orders" }, two.Build().FetcherNames);
        Assert.Equal(new[] { "profile", "orders", "extra" }, three.Build().FetcherNames);
        Assert.Null(two.Build().Timeout);
        Assert.Equal(TimeSpan.FromSeconds(1), two.WithTimeout(TimeSpan.FromSeconds(1)).Build().Timeout);
    }

    [Fact]
    public void Failures_must_describe_themselves_in_one_line()
    {
        Assert.Equal("deadline of 1000 ms exceeded; pending: profile", new DeadlineExceeded(TimeSpan.FromSeconds(1), ["profile"]).ToString());
        Assert.Equal("fetcher 'orders' failed: InvalidOperationException: down",
            new FetcherFailed("orders", new InvalidOperationException("down")).Describe());
        Assert.Equal("rejected: busy", new RequestRejected(RequestRejected.Busy).Describe());
        var exception = new AggregationFailedException(new FetcherFailed("orders", new TimeoutException("slow")));
        Assert.IsType<TimeoutException>(exception.InnerException);
        Assert.Contains("fetcher 'orders' failed", exception.Message);
    }
}
