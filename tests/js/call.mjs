// One call through the AWS SDK for JavaScript v3, for the end-to-end client tests.
//   node tests/js/call.mjs PROVIDER PROFILE ACTION
// PROVIDER: fromIni or fromProcess (@aws-sdk/credential-providers); ACTION: GetUser (IAM, needs
// an MFA session) or GetCallerIdentity (STS). No endpoint is set here: the SDK takes it from
// AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_STS. Prints the result as one JSON line; on error,
// "Name: message" on stderr and exit status 1.
import { GetUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromProcess } from "@aws-sdk/credential-providers";

const [provider, profile, action] = process.argv.slice(2);
const providers = { fromIni, fromProcess };
const calls = {
  GetUser: (credentials) =>
    new IAMClient({ region: "us-east-1", maxAttempts: 1, credentials })
      .send(new GetUserCommand({}))
      .then((output) => ({ UserName: output.User.UserName, Arn: output.User.Arn })),
  GetCallerIdentity: (credentials) =>
    new STSClient({ region: "us-east-1", maxAttempts: 1, credentials })
      .send(new GetCallerIdentityCommand({}))
      .then(({ $metadata, ...output }) => output),
};
if (!providers[provider] || !calls[action]) {
  console.error("usage: call.mjs fromIni|fromProcess PROFILE GetUser|GetCallerIdentity");
  process.exit(2);
}

try {
  console.log(JSON.stringify(await calls[action](providers[provider]({ profile }))));
} catch (error) {
  console.error(`${error.name}: ${error.message}`);
  process.exit(1);
}
