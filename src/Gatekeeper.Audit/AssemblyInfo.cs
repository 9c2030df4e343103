namespace Gatekeeper.Audit;
