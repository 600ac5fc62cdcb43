using Microsoft.Extensions.Logging;

namespace Durable.Storage.Tests;

/// <summary>Keeps every log line (level, event id, message) so that tests can assert what the store reported.</summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly List<(LogLevel Level, int EventId, string Message)> _lines = [];

    public IReadOnlyList<(LogLevel Level, int EventId, string Message)> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public bool Has(int eventId) => Lines.Any(l => l.EventId == eventId);

    public string Text => string.Join('\n', Lines.Select(l => $"{l.Level} {l.EventId} {l.Message}"));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        string message = formatter(state, exception) + (exception is null ? string.Empty : " | " + exception.GetType().Name + ": " + exception.Message);
        lock (_lines)
        {
            _lines.Add((logLevel, eventId.Id, message));
        }
    }
}
