namespace Gatekeeper.Client.Internal;

/// <summary>Checks <see cref="GatekeeperClientOptions"/> and reports every problem at once, not only the first.</summary>
internal static class OptionsValidation
{
    public static List<string> Validate(GatekeeperClientOptions options, bool addressRequired)
    {
        var errors = new List<string>();
        if (options.Address is null)
        {
            if (addressRequired)
            {
                errors.Add("Address is required, e.g. http://127.0.0.1:5000.");
            }
        }
        else if (!options.Address.IsAbsoluteUri || (options.Address.Scheme != Uri.UriSchemeHttp && options.Address.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"Address must be an absolute http:// or https:// URI; got '{options.Address}'.");
        }
        else if ((options.ClientCertificate is not null || options.TrustedCa is not null) && options.Address.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add("ClientCertificate and TrustedCa need an https:// Address.");
        }

        if (options.DefaultDeadline is { } deadline && deadline <= TimeSpan.Zero && deadline != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"DefaultDeadline must be positive (or Timeout.InfiniteTimeSpan, or null for none); got {deadline}.");
        }

        if (options.MaxReceiveMessageSize <= 0)
        {
            errors.Add($"MaxReceiveMessageSize must be positive; got {options.MaxReceiveMessageSize}.");
        }

        if (options.ClientCertificate is { HasPrivateKey: false })
        {
            errors.Add("ClientCertificate has no private key, so it cannot authenticate the client.");
        }

        CheckPositiveOrInfinite(errors, nameof(options.PooledConnectionLifetime), options.PooledConnectionLifetime);
        CheckPositiveOrInfinite(errors, nameof(options.KeepAlivePingDelay), options.KeepAlivePingDelay);
        CheckPositiveOrInfinite(errors, nameof(options.KeepAlivePingTimeout), options.KeepAlivePingTimeout);
        CheckPositiveOrInfinite(errors, nameof(options.ConnectTimeout), options.ConnectTimeout);
        if (options.TimeProvider is null)
        {
            errors.Add("TimeProvider must not be null.");
        }

        return errors;
    }

    public static void ThrowIfInvalid(GatekeeperClientOptions options, bool addressRequired)
    {
        var errors = Validate(options, addressRequired);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid GatekeeperClientOptions: " + string.Join(" ", errors), nameof(options));
        }
    }

    private static void CheckPositiveOrInfinite(List<string> errors, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{name} must be positive or Timeout.InfiniteTimeSpan; got {value}.");
        }
    }
}
