namespace Gatekeeper.Redis.Internal;

/// <summary>What the parser accepts from a server before calling the reply hostile.</summary>
internal readonly record struct RespLimits(long MaxBulkLength, int MaxArrayLength, int MaxDepth, int MaxLineLength)
{
    /// <summary>Simple strings, errors and integers are short in practice; 64 KiB leaves room for long error texts.</summary>
    public const int DefaultMaxLineLength = 64 * 1024;

    public static RespLimits Default { get; } = new(
        RedisConnectionOptions.DefaultMaxBulkLength,
        RedisConnectionOptions.DefaultMaxArrayLength,
        RedisConnectionOptions.DefaultMaxNestingDepth,
        DefaultMaxLineLength);

    /// <summary>An incomplete reply larger than this is rejected instead of buffered further.</summary>
    public long MaxBufferedReply => MaxBulkLength + (1024 * 1024);

    public static RespLimits From(RedisConnectionOptions options) =>
        new(options.MaxBulkLength, options.MaxArrayLength, options.MaxNestingDepth, DefaultMaxLineLength);
}
