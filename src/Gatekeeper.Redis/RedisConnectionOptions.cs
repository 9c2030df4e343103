using System.Globalization;
using System.Net.Security;

namespace Gatekeeper.Redis;

/// <summary>
/// Everything a <see cref="RedisConnection"/> needs. Usually produced by <see cref="Parse"/> from a
/// StackExchange.Redis-style configuration string, then adjusted in code for settings that have no string form.
/// </summary>
public sealed class RedisConnectionOptions
{
    /// <summary>The default Redis port.</summary>
    public const int DefaultPort = 6379;

    /// <summary>Default of <see cref="ConnectTimeout"/>: 5 seconds (as StackExchange.Redis).</summary>
    public const int DefaultConnectTimeoutMilliseconds = 5000;

    /// <summary>Default of <see cref="CommandTimeout"/>: 5 seconds (as StackExchange.Redis's syncTimeout).</summary>
    public const int DefaultCommandTimeoutMilliseconds = 5000;

    /// <summary>Default of <see cref="MaxPendingCommands"/>.</summary>
    public const int DefaultMaxPendingCommands = 10_000;

    /// <summary>Default of <see cref="MaxBulkLength"/>: 512 MiB, the largest string Redis itself stores.</summary>
    public const long DefaultMaxBulkLength = 512L * 1024 * 1024;

    /// <summary>Default of <see cref="MaxArrayLength"/>.</summary>
    public const int DefaultMaxArrayLength = 1024 * 1024;

    /// <summary>Default of <see cref="MaxNestingDepth"/>.</summary>
    public const int DefaultMaxNestingDepth = 16;

    /// <summary>The host name or IP address of the server. Defaults to <c>localhost</c>.</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>The TCP port. Defaults to 6379.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The ACL user name (<c>user=</c>); null authenticates with the password only (the <c>default</c> user).</summary>
    public string? User { get; set; }

    /// <summary>The password (<c>password=</c>); null sends no AUTH.</summary>
    public string? Password { get; set; }

    /// <summary>Whether to use TLS (<c>ssl=true</c>). Defaults to false.</summary>
    public bool Ssl { get; set; }

    /// <summary>The name the server certificate must match (<c>sslHost=</c>); defaults to <see cref="Host"/>.</summary>
    public string? SslHost { get; set; }

    /// <summary>
    /// Validates the server certificate when <see cref="Ssl"/> is on. Null uses the operating system's trust store.
    /// There is no string form: a private CA is trusted in code.
    /// </summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; set; }

    /// <summary>The database selected after connecting (<c>defaultDatabase=</c>). Defaults to 0.</summary>
    public int DefaultDatabase { get; set; }

    /// <summary>Time allowed for TCP connect, TLS and the AUTH/SELECT/PING hand-shake (<c>connectTimeout=</c>, ms).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromMilliseconds(DefaultConnectTimeoutMilliseconds);

    /// <summary>
    /// Time a command may wait for its reply (<c>syncTimeout=</c> or <c>asyncTimeout=</c>, ms). When it passes the
    /// command fails with <see cref="RedisTimeoutException"/> and the connection is re-established.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMilliseconds(DefaultCommandTimeoutMilliseconds);

    /// <summary>
    /// Whether <see cref="RedisConnection.ConnectAsync(RedisConnectionOptions, Microsoft.Extensions.Logging.ILoggerFactory?, TimeProvider?, CancellationToken)"/>
    /// throws when the first attempt fails (<c>abortConnect=</c>). When false it returns a connection that keeps retrying
    /// in the background. Defaults to true.
    /// </summary>
    public bool AbortOnConnectFail { get; set; } = true;

    /// <summary>
    /// Commands sent but not yet answered, per connection. Beyond it commands fail at once with
    /// <see cref="RedisConnectionException"/> instead of queueing without bound. Defaults to 10,000.
    /// </summary>
    public int MaxPendingCommands { get; set; } = DefaultMaxPendingCommands;

    /// <summary>First reconnect delay; doubled per failed attempt up to <see cref="ReconnectMaxDelay"/>, with jitter. Defaults to 100 ms.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest reconnect delay. Defaults to 10 s.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest bulk string accepted from the server; a longer declared length is a protocol error. Defaults to 512 MiB.</summary>
    public long MaxBulkLength { get; set; } = DefaultMaxBulkLength;

    /// <summary>Largest array (or map, set, push) element count accepted from the server. Defaults to 1,048,576.</summary>
    public int MaxArrayLength { get; set; } = DefaultMaxArrayLength;

    /// <summary>Deepest nesting of arrays accepted from the server. Defaults to 16.</summary>
    public int MaxNestingDepth { get; set; } = DefaultMaxNestingDepth;

    /// <summary>
    /// Parses <c>host[:port][,password=...][,user=...][,ssl=true][,sslHost=...][,defaultDatabase=N][,connectTimeout=ms][,syncTimeout=ms][,asyncTimeout=ms][,abortConnect=false]</c>.
    /// Keys are case-insensitive. Every problem is reported at once in the <see cref="FormatException"/> message.
    /// </summary>
    /// <exception cref="FormatException">One or more settings are missing, unknown or invalid.</exception>
    public static RedisConnectionOptions Parse(string? configuration)
    {
        if (TryParse(configuration, out var options, out var errors))
        {
            return options;
        }

        throw new FormatException("Invalid Redis configuration: " + string.Join("; ", errors));
    }

    /// <summary>Parses a configuration string like <see cref="Parse"/>, returning every problem found instead of throwing.</summary>
    public static bool TryParse(string? configuration, out RedisConnectionOptions options, out IReadOnlyList<string> errors)
    {
        options = new RedisConnectionOptions();
        var problems = new List<string>();
        errors = problems;
        if (string.IsNullOrWhiteSpace(configuration))
        {
            problems.Add("the configuration is empty; expected at least host:port");
            return false;
        }

        var endpoints = 0;
        foreach (var rawPart in configuration.Split(','))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                endpoints++;
                if (endpoints > 1)
                {
                    problems.Add($"'{part}': only one endpoint is supported (no cluster or sentinel)");
                    continue;
                }

                ParseEndpoint(part, options, problems);
                continue;
            }

            var key = part[..eq].Trim();
            var value = part[(eq + 1)..].Trim();
            ApplySetting(key, value, options, problems);
        }

        if (endpoints == 0)
        {
            problems.Add("no endpoint; expected host:port (for example 127.0.0.1:6379)");
        }

        if (options.SslHost is not null && !options.Ssl)
        {
            problems.Add("sslHost is set but ssl is not true");
        }

        if (options.User is not null && options.Password is null)
        {
            problems.Add("user is set without password");
        }

        return problems.Count == 0;
    }

    private static void ApplySetting(string key, string value, RedisConnectionOptions options, List<string> problems)
    {
        switch (key.ToUpperInvariant())
        {
            case "PASSWORD":
                options.Password = value;
                break;
            case "USER":
                if (value.Length == 0)
                {
                    problems.Add("user is empty");
                }

                options.User = value;
                break;
            case "SSL":
                options.Ssl = ParseBool(key, value, problems);
                break;
            case "SSLHOST":
                if (value.Length == 0)
                {
                    problems.Add("sslHost is empty");
                }

                options.SslHost = value;
                break;
            case "DEFAULTDATABASE":
                options.DefaultDatabase = ParseInt(key, value, 0, 65535, problems);
                break;
            case "CONNECTTIMEOUT":
                options.ConnectTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue, problems));
                break;
            case "SYNCTIMEOUT":
            case "ASYNCTIMEOUT":
                options.CommandTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue, problems));
                break;
            case "ABORTCONNECT":
                options.AbortOnConnectFail = ParseBool(key, value, problems);
                break;
            default:
                problems.Add($"unknown setting '{key}' (supported: password, user, ssl, sslHost, defaultDatabase, connectTimeout, syncTimeout, asyncTimeout, abortConnect)");
                break;
        }
    }

    private static void ParseEndpoint(string text, RedisConnectionOptions options, List<string> problems)
    {
        string host;
        string? port = null;
        if (text.StartsWith('['))
        {
            // [IPv6]:port
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                problems.Add($"endpoint '{text}': missing ']'");
                return;
            }

            host = text[1..close];
            var rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    problems.Add($"endpoint '{text}': expected ':' after ']'");
                    return;
                }

                port = rest[1..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                // Several colons without brackets: a bare IPv6 address.
                host = text;
            }
            else if (colon >= 0)
            {
                host = text[..colon];
                port = text[(colon + 1)..];
            }
            else
            {
                host = text;
            }
        }

        if (host.Length == 0)
        {
            problems.Add($"endpoint '{text}': the host is empty");
        }

        options.Host = host;
        if (port is not null)
        {
            options.Port = ParseInt("port", port, 1, 65535, problems);
        }
    }

    private static bool ParseBool(string key, string value, List<string> problems)
    {
        if (bool.TryParse(value, out var result))
        {
            return result;
        }

        problems.Add($"{key}='{value}' is not true or false");
        return false;
    }

    private static int ParseInt(string key, string value, int min, int max, List<string> problems)
    {
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max)
        {
            return result;
        }

        problems.Add($"{key}='{value}' is not a whole number from {min} to {max}");
        return min;
    }

    /// <summary>Checks the values that can also be set in code; returns every problem found.</summary>
    internal List<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Host))
        {
            problems.Add("Host is empty");
        }

        if (Port is < 1 or > 65535)
        {
            problems.Add($"Port {Port} is outside 1..65535");
        }

        if (DefaultDatabase < 0)
        {
            problems.Add("DefaultDatabase is negative");
        }

        if (ConnectTimeout <= TimeSpan.Zero || CommandTimeout <= TimeSpan.Zero)
        {
            problems.Add("ConnectTimeout and CommandTimeout must be positive");
        }

        if (MaxPendingCommands < 1 || MaxArrayLength < 1 || MaxNestingDepth < 1 || MaxBulkLength < 1)
        {
            problems.Add("MaxPendingCommands, MaxArrayLength, MaxNestingDepth and MaxBulkLength must be positive");
        }

        if (ReconnectBaseDelay <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectBaseDelay)
        {
            problems.Add("ReconnectBaseDelay must be positive and not above ReconnectMaxDelay");
        }

        return problems;
    }

    /// <summary>A copy, so that a connection is not affected by later changes to the options object.</summary>
    internal RedisConnectionOptions Clone() => (RedisConnectionOptions)MemberwiseClone();
}
