using Gatekeeper.Audit;
using Gatekeeper.Hosting;
using Gatekeeper.Policy;
using Microsoft.Extensions.Configuration;

// Subcommands for information-governance officers and ops; anything else runs the service.
switch (args)
{
    case ["policy", .. var policyArgs]:
        return PolicyCli.Run(policyArgs, Console.Out, Console.Error);
    case ["audit", .. var auditArgs]:
        // The same data directory the service uses: Gatekeeper__DataDirectory or appsettings, else ./data.
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .Build();
        var dataDirectory = configuration[$"{GatekeeperOptions.Section}:DataDirectory"] ?? AuditOptions.DefaultDataDirectory;
        return AuditCli.Run(auditArgs, dataDirectory, Console.Out, Console.Error);
}

var app = GatekeeperApp.Build(args);
await app.RunAsync();
return 0;
