using Microsoft.Data.Sqlite;

namespace Gatekeeper.Audit.Tests.Support;

/// <summary>Direct SQL on a log's file, for tests that look at (or change) what is stored.</summary>
public static class AuditDb
{
    public static SqliteConnection Open(AuditOptions options)
    {
        var connection = new SqliteConnection($"Data Source={options.DatabasePath};Pooling=False");
        connection.Open();
        return connection;
    }

    public static long Scalar(AuditOptions options, string sql)
    {
        using var connection = Open(options);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    public static void Execute(AuditOptions options, string sql)
    {
        using var connection = Open(options);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
