# terraform with an MFA session from mfa-process: every provider reads ~/.aws/config,
# runs `mfa-process --profile base` through the `mfa` profile, and gets a cached MFA session.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

# The identity account, with the MFA session itself.
provider "aws" {
  region  = "eu-west-1"
  profile = "mfa"
}

# Another account, through a role assumed with the MFA session (role_arn + source_profile = mfa
# in ~/.aws/config, see ../config). One prompt serves both providers.
provider "aws" {
  alias   = "prod"
  region  = "eu-west-1"
  profile = "prod-admin"
}

data "aws_caller_identity" "identity" {}

data "aws_caller_identity" "prod" {
  provider = aws.prod
}

output "identity_account" {
  value = data.aws_caller_identity.identity.arn
}

output "prod_account" {
  value = data.aws_caller_identity.prod.arn
}
