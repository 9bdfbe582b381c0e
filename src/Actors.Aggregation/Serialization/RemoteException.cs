namespace Actors.Aggregation;

/// <summary>
/// An exception thrown on another node, as it crossed the wire: its type name, message, stack trace and inner errors, as
/// data. <see cref="FetcherFailed.Exception"/>, <see cref="CombineFailed.Exception"/> and <see cref="PartOutcome.Error"/> are
/// the original exception on the node where the fetch ran, and one of these everywhere else: exceptions are not sent as
/// objects, because their types need not exist on the receiving node and Akka's default serializer does not carry them
/// reliably.
/// </summary>
public sealed class RemoteException : Exception
{
    private readonly string? _stackTrace;

    /// <summary>Creates the stand-in of an exception of type <paramref name="typeName"/> thrown elsewhere.</summary>
    /// <param name="typeName">The full name of the original exception's type, e.g. <c>System.Net.Http.HttpRequestException</c>.</param>
    /// <param name="message">The original exception's message.</param>
    /// <param name="stackTrace">The original stack trace, or null when it had none.</param>
    /// <param name="innerErrors">The original inner exceptions (all of an <see cref="AggregateException"/>'s), as stand-ins; the first is <see cref="Exception.InnerException"/>.</param>
    public RemoteException(string typeName, string message, string? stackTrace, IReadOnlyList<RemoteException>? innerErrors = null)
        : base(message, innerErrors is { Count: > 0 } ? innerErrors[0] : null)
    {
        ArgumentNullException.ThrowIfNull(typeName);
        TypeName = typeName;
        _stackTrace = stackTrace;
        InnerErrors = innerErrors ?? [];
    }

    /// <summary>The full name of the original exception's type.</summary>
    public string TypeName { get; }

    /// <summary>The original inner exceptions, in order: one, or every one of an <see cref="AggregateException"/>.</summary>
    public IReadOnlyList<RemoteException> InnerErrors { get; }

    /// <summary>The stack trace where the original exception was thrown, on its node.</summary>
    public override string? StackTrace => _stackTrace;

    /// <summary><c>TypeName: Message</c>, then the inner errors and the original stack trace.</summary>
    public override string ToString()
    {
        var text = $"{TypeName}: {Message}";
        foreach (var inner in InnerErrors) text += $"{Environment.NewLine} ---> {inner}";
        return _stackTrace is null ? text : text + Environment.NewLine + _stackTrace;
    }
}
