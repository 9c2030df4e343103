using Gatekeeper.Hosting;

var app = GatekeeperApp.Build(args);
await app.RunAsync();
