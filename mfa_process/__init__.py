"""mfa-process: an AWS credential_process plugin for MFA-backed GetSessionToken sessions."""

__version__ = "0.1.0"
