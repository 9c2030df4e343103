using Gatekeeper.Transport;
using Microsoft.Extensions.DependencyInjection;

namespace Gatekeeper.Hosting;

/// <summary>Registers gRPC methods with the endpoint through dependency injection.</summary>
public static class ServerMethodRegistration
{
    /// <summary>Adds the methods created by <paramref name="factory"/> to the gRPC endpoint.</summary>
    public static IServiceCollection AddGrpcMethods(this IServiceCollection services, Func<IServiceProvider, IEnumerable<ServerMethod>> factory) =>
        services.AddSingleton(new ServerMethodSource(factory));
}

/// <summary>A deferred set of gRPC methods, created once the service provider exists.</summary>
public sealed class ServerMethodSource(Func<IServiceProvider, IEnumerable<ServerMethod>> factory)
{
    internal IEnumerable<ServerMethod> Create(IServiceProvider services) => factory(services);
}
