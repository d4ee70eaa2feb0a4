// Alibaba Cloud's official RPC client for Node.js (@alicloud/pop-core) against the
// imageshare emulator, pointed at it the way its README sets an endpoint
// (`endpoint: "http://HOST:PORT"`, `apiVersion`). Signature v1 (HMAC-SHA1) RPC calls.
//
// Environment: IMAGESHARE_ENDPOINT (http://host:port), ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET. Prints one JSON object; exits 1 on any SDK error.
"use strict";

const RPCClient = require("@alicloud/pop-core").RPCClient;

const client = new RPCClient({
  accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
  accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  endpoint: process.env.IMAGESHARE_ENDPOINT,
  apiVersion: "2014-05-26",
});

async function main() {
  const out = {};
  const opts = { method: "POST" };
  const images = await client.request(
    "DescribeImages",
    { RegionId: "cn-hangzhou", ImageId: "m-bp18ygjuqnwhechc" },
    opts,
  );
  out.describe = images.Images.Image.map((i) => i.ImageId);
  const shared = await client.request(
    "ModifyImageSharePermission",
    { RegionId: "cn-hangzhou", ImageId: "m-bp18ygjuqnwhechc", AddAccount: ["100000000002"] },
    opts,
  );
  out.share_request_id = shared.RequestId;
  const perms = await client.request(
    "DescribeImageSharePermission",
    { RegionId: "cn-hangzhou", ImageId: "m-bp18ygjuqnwhechc" },
    opts,
  );
  out.sharees = perms.Accounts.Account.map((a) => a.AliyunId);
  try {
    await client.request(
      "ModifyImageSharePermission",
      { RegionId: "cn-hangzhou", ImageId: "m-nonexist01", AddAccount: ["100000000002"] },
      opts,
    );
    out.refusal = null;
  } catch (e) {
    out.refusal = e.code;
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(`${e.code || ""} ${e.message}`);
  process.exit(1);
});
