namespace Gatekeeper.Redis;

/// <summary>Base class of every error raised by the Gatekeeper Redis client.</summary>
public abstract class RedisException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    protected RedisException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    protected RedisException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The client could not reach Redis, lost the connection, is not connected at the moment, or refused the
/// command because too many commands are already waiting. The outcome of a command that was in flight is unknown.
/// </summary>
public sealed class RedisConnectionException : RedisException
{
    /// <summary>Creates the exception with a message.</summary>
    public RedisConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public RedisConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A command (or the connection hand-shake) did not get an answer in time. The connection it was sent on is torn
/// down and re-established, because the replies that arrive later could no longer be matched to their commands.
/// </summary>
public sealed class RedisTimeoutException : RedisException
{
    /// <summary>Creates the exception with a message.</summary>
    public RedisTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public RedisTimeoutException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Redis answered the command with an error reply (for example <c>WRONGTYPE ...</c> or <c>NOAUTH ...</c>).</summary>
public sealed class RedisServerException : RedisException
{
    /// <summary>Creates the exception from the server's error text.</summary>
    public RedisServerException(string serverMessage)
        : base(serverMessage)
    {
        ServerMessage = serverMessage;
    }

    /// <summary>Creates the exception from the server's error text with an underlying cause.</summary>
    public RedisServerException(string serverMessage, Exception? innerException)
        : base(serverMessage, innerException)
    {
        ServerMessage = serverMessage;
    }

    /// <summary>The error text exactly as the server sent it, for example <c>WRONGPASS invalid username-password pair</c>.</summary>
    public string ServerMessage { get; }

    /// <summary>The first word of the error text (<c>ERR</c>, <c>WRONGTYPE</c>, <c>NOAUTH</c>, ...).</summary>
    public string ErrorCode
    {
        get
        {
            var space = ServerMessage.IndexOf(' ', StringComparison.Ordinal);
            return space < 0 ? ServerMessage : ServerMessage[..space];
        }
    }
}

/// <summary>
/// The server sent bytes that are not valid RESP, or a reply beyond the configured limits (bulk length, element
/// count, nesting depth). The connection is torn down: nothing after a bad frame can be trusted.
/// </summary>
public sealed class RedisProtocolException : RedisException
{
    /// <summary>Creates the exception with a message.</summary>
    public RedisProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public RedisProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
