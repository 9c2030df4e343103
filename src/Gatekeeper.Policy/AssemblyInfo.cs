namespace Gatekeeper.Policy;
