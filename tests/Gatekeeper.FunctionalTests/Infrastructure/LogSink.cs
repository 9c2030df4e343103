using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.FunctionalTests.Infrastructure;

/// <summary>One log entry written by the server under test.</summary>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"[{Level}] {Category} ({EventId.Id}:{EventId.Name}) {Message}{(Exception is null ? string.Empty : Environment.NewLine + Exception)}";
}

/// <summary>
/// Captures everything the server logs, so that a test fails on an Error it did not expect (the
/// "VerifyNoErrorsScope" idea of grpc-dotnet's functional tests).
/// </summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();
    private int _count;

    /// <summary>How many records have been written so far; a scope starts counting from here.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>A snapshot of every record.</summary>
    public IReadOnlyList<LogRecord> Records => [.. _records];

    /// <summary>Records written after the first <paramref name="skip"/>.</summary>
    public IEnumerable<LogRecord> Since(int skip) => _records.Skip(skip);

    /// <summary>Starts checking that no unexpected Error is logged until the scope is disposed.</summary>
    public VerifyNoErrorsScope VerifyNoErrors() => new(this);

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new SinkLogger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Add(LogRecord record)
    {
        _records.Enqueue(record);
        Interlocked.Increment(ref _count);
    }

    private sealed class SinkLogger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            sink.Add(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception));
        }
    }
}

/// <summary>
/// Fails (throws from <see cref="Dispose"/>) when the server logged an Error or Critical entry that the test
/// did not declare with <see cref="ExpectError"/>. Test classes create one per test in their constructor and
/// dispose it in theirs, so that xunit reports the failure against the test that caused it.
/// </summary>
public sealed class VerifyNoErrorsScope : IDisposable
{
    private readonly LogSink _sink;
    private readonly int _start;
    private readonly List<Func<LogRecord, bool>> _expected = [];

    internal VerifyNoErrorsScope(LogSink sink)
    {
        _sink = sink;
        _start = sink.Count;
    }

    /// <summary>Declares an error entry this test provokes on purpose.</summary>
    public void ExpectError(Func<LogRecord, bool> match) => _expected.Add(match);

    /// <summary>Declares that entries with this event name are expected.</summary>
    public void ExpectError(string eventName) => ExpectError(r => r.EventId.Name == eventName);

    /// <summary>The error entries logged since the scope began that no expectation covers.</summary>
    public IReadOnlyList<LogRecord> UnexpectedErrors()
    {
        var unexpected = new List<LogRecord>();
        foreach (var record in _sink.Since(_start))
        {
            if (record.Level >= LogLevel.Error && !_expected.Any(m => m(record)))
            {
                unexpected.Add(record);
            }
        }

        return unexpected;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var unexpected = UnexpectedErrors();
        if (unexpected.Count > 0)
        {
            throw new Xunit.Sdk.XunitException(
                $"The server logged {unexpected.Count} unexpected error(s):{Environment.NewLine}{string.Join(Environment.NewLine, unexpected)}");
        }
    }
}
