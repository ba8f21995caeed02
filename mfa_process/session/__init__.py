"""Getting an MFA session: the provider chain, the STS call, the cache and its lock."""
