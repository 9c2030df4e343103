namespace Gatekeeper.Audit;

/// <summary>Settings of the audit store (configuration section <c>Gatekeeper:Audit</c>).</summary>
public sealed class AuditOptions
{
    public const string DefaultDataDirectory = "./data";
    public const int DefaultQueueCapacity = 65_536;
    public const int DefaultMaxBatchSize = 4_096;
    public const int DefaultCheckpointEveryRecords = 10_000;
    public const string DatabaseFileName = "audit.db";
    public const string KeyFileName = "subject-hmac.key";

    public static TimeSpan DefaultCheckpointInterval { get; } = TimeSpan.FromMinutes(1);

    /// <summary>Six years: the usual retention for children's social care decision records.</summary>
    public static TimeSpan DefaultRetention { get; } = TimeSpan.FromDays(6 * 365 + 2);

    /// <summary>Where <c>audit.db</c> and the key file live. Defaults to <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = DefaultDataDirectory;

    /// <summary>Records waiting for the writer; beyond this AppendAsync fails at once. Defaults to 65,536.</summary>
    public int QueueCapacity { get; set; } = DefaultQueueCapacity;

    /// <summary>Most records committed in one transaction. Defaults to 4,096.</summary>
    public int MaxBatchSize { get; set; } = DefaultMaxBatchSize;

    /// <summary>
    /// Base64 HMAC key (at least 16 bytes) for subject references and checkpoint signatures. When absent, a
    /// 32-byte key is generated into <c>DataDirectory/subject-hmac.key</c> (mode 0600) and reused.
    /// </summary>
    public string? SubjectHmacKey { get; set; }

    /// <summary>A signed head checkpoint is written at least this often while records arrive. Defaults to 1 minute.</summary>
    public TimeSpan CheckpointInterval { get; set; } = DefaultCheckpointInterval;

    /// <summary>...and at least every this many records. Defaults to 10,000.</summary>
    public int CheckpointEveryRecords { get; set; } = DefaultCheckpointEveryRecords;

    /// <summary>How long records are kept before <c>audit purge</c> may delete them. Defaults to 6 years.</summary>
    public TimeSpan Retention { get; set; } = DefaultRetention;

    public string DatabasePath => Path.Combine(DataDirectory, DatabaseFileName);

    public string KeyFilePath => Path.Combine(DataDirectory, KeyFileName);

    /// <summary>Every invalid setting at once, so that a bad configuration is fixed in one round.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("DataDirectory must not be empty.");
        }

        if (QueueCapacity < 1)
        {
            errors.Add($"QueueCapacity must be at least 1 (was {QueueCapacity}).");
        }

        if (MaxBatchSize < 1)
        {
            errors.Add($"MaxBatchSize must be at least 1 (was {MaxBatchSize}).");
        }

        if (CheckpointInterval <= TimeSpan.Zero)
        {
            errors.Add("CheckpointInterval must be positive.");
        }

        if (CheckpointEveryRecords < 1)
        {
            errors.Add($"CheckpointEveryRecords must be at least 1 (was {CheckpointEveryRecords}).");
        }

        if (Retention <= TimeSpan.Zero)
        {
            errors.Add("Retention must be positive.");
        }

        if (SubjectHmacKey is not null)
        {
            var buffer = new byte[SubjectHmacKey.Length];
            if (!Convert.TryFromBase64String(SubjectHmacKey, buffer, out var length))
            {
                errors.Add("SubjectHmacKey is not valid base64.");
            }
            else if (length < 16)
            {
                errors.Add($"SubjectHmacKey must hold at least 16 bytes (has {length}).");
            }
        }

        return errors;
    }

    internal void ThrowIfInvalid()
    {
        var errors = Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid audit options: " + string.Join(" ", errors));
        }
    }
}
