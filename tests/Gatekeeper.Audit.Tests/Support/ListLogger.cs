using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Audit.Tests.Support;

/// <summary>Captures log events so that tests can assert on the [LoggerMessage] contract (event names).</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Event, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " " + exception)));

    public int Count(string eventName) => Entries.Count(e => e.Event.Name == eventName);
}
