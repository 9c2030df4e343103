namespace Gatekeeper.Redis.Internal;

/// <summary>Command names and fixed arguments, pre-encoded as RESP bulk strings.</summary>
internal static class RedisCommands
{
    public static ReadOnlySpan<byte> Get => "$3\r\nGET\r\n"u8;

    public static ReadOnlySpan<byte> Set => "$3\r\nSET\r\n"u8;

    public static ReadOnlySpan<byte> Del => "$3\r\nDEL\r\n"u8;

    public static ReadOnlySpan<byte> Expire => "$6\r\nEXPIRE\r\n"u8;

    public static ReadOnlySpan<byte> PExpire => "$7\r\nPEXPIRE\r\n"u8;

    public static ReadOnlySpan<byte> Ping => "$4\r\nPING\r\n"u8;

    public static ReadOnlySpan<byte> Auth => "$4\r\nAUTH\r\n"u8;

    public static ReadOnlySpan<byte> Select => "$6\r\nSELECT\r\n"u8;

    public static ReadOnlySpan<byte> Publish => "$7\r\nPUBLISH\r\n"u8;

    public static ReadOnlySpan<byte> Subscribe => "$9\r\nSUBSCRIBE\r\n"u8;

    public static ReadOnlySpan<byte> Unsubscribe => "$11\r\nUNSUBSCRIBE\r\n"u8;

    public static ReadOnlySpan<byte> GetRange => "$8\r\nGETRANGE\r\n"u8;

    public static ReadOnlySpan<byte> Ex => "$2\r\nEX\r\n"u8;

    public static ReadOnlySpan<byte> Px => "$2\r\nPX\r\n"u8;

    public static ReadOnlySpan<byte> MessageKind => "message"u8;

    public static ReadOnlySpan<byte> PatternMessageKind => "pmessage"u8;
}
