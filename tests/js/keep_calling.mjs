// A long-running program on the AWS SDK for JavaScript v3, for the credentials-server tests:
//   node tests/js/keep_calling.mjs SECONDS
// One STSClient on the default credential chain (under `mfa-process exec --server`: the container
// endpoint) calls GetCallerIdentity about once a second for SECONDS (a monotonic clock: a moved
// wall clock does not shorten or stretch the run), one attempt per call, and prints one JSON line
// per call: {"ok": true, "arn": ...} or {"ok": false, "error": "Name: message"}. Exit status 1 if
// any call failed. No endpoint is set here: the SDK takes it from AWS_ENDPOINT_URL_STS.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const seconds = Number(process.argv[2]);
if (!(seconds > 0)) {
  console.error("usage: keep_calling.mjs SECONDS");
  process.exit(2);
}

const client = new STSClient({ region: "us-east-1", maxAttempts: 1 });
const end = performance.now() + seconds * 1000;
let failed = 0;
while (performance.now() < end) {
  try {
    const { Arn } = await client.send(new GetCallerIdentityCommand({}));
    console.log(JSON.stringify({ ok: true, arn: Arn }));
  } catch (error) {
    failed += 1;
    console.log(JSON.stringify({ ok: false, error: `${error.name}: ${error.message}` }));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
process.exit(failed ? 1 : 0);
