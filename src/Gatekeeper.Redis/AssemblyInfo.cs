namespace Gatekeeper.Redis;
