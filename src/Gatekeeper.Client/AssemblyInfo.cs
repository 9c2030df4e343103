namespace Gatekeeper.Client;
