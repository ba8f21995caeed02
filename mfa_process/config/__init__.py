"""Reading and editing the AWS config files: settings, profiles, the MFA device."""
