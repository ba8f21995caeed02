"""Where a base profile's long-term access key lives: in the AWS credentials file, as every SDK
reads it, or in the OS keyring, where only mfa-process reads it. The config file records which,
and nothing secret (key_facts)."""
