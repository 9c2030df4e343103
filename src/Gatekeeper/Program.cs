using Gatekeeper.Hosting;
using Gatekeeper.Policy;

// Subcommands for information-governance officers and ops; anything else runs the service.
if (args is ["policy", .. var policyArgs])
{
    return PolicyCli.Run(policyArgs, Console.Out, Console.Error);
}

var app = GatekeeperApp.Build(args);
await app.RunAsync();
return 0;
