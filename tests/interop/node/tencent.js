// Tencent Cloud's official Node.js SDK against the imageshare emulator, pointed at it the
// way the SDK's docs set an endpoint (profile.httpProfile.endpoint / the CommonClient's
// endpoint argument, protocol http://). The SDK signs the host without the port and takes
// the credential scope's service from the endpoint's first label ("127").
//
// Environment: IMAGESHARE_ENDPOINT (host:port), TENCENTCLOUD_SECRET_ID,
// TENCENTCLOUD_SECRET_KEY; optional IMAGESHARE_PROTOCOL (default "http://").
// Prints one JSON object with what each call returned; exits 1 on any SDK error.
"use strict";

const tencentcloud = require("tencentcloud-sdk-nodejs-cvm");
const { CommonClient } = require("tencentcloud-sdk-nodejs-common");

const endpoint = process.env.IMAGESHARE_ENDPOINT;
const protocol = process.env.IMAGESHARE_PROTOCOL || "http://";
const credential = {
  secretId: process.env.TENCENTCLOUD_SECRET_ID,
  secretKey: process.env.TENCENTCLOUD_SECRET_KEY,
};
const region = "ap-guangzhou";
const profile = { httpProfile: { endpoint, protocol } };

async function main() {
  const cvm = new tencentcloud.cvm.v20170312.Client({ credential, region, profile });
  const out = {};
  const images = await cvm.DescribeImages({ ImageIds: ["img-6pb6lrmy"] });
  out.describe = images.ImageSet.map((i) => i.ImageId);
  const shared = await cvm.ModifyImageSharePermission({
    ImageId: "img-6pb6lrmy",
    AccountIds: ["100000000002"],
    Permission: "SHARE",
  });
  out.share_request_id = shared.RequestId;
  const perms = await cvm.DescribeImageSharePermission({ ImageId: "img-6pb6lrmy" });
  out.sharees = perms.SharePermissionSet.map((p) => p.AccountId);

  // Lighthouse has no Node.js package of its own: the common client, as Tencent documents.
  const lighthouse = new CommonClient(endpoint, "2020-03-24", { credential, region, profile });
  const blueprints = await lighthouse.request("DescribeBlueprints", {
    BlueprintIds: ["lhbp-6jc6l8yb"],
  });
  out.blueprints = blueprints.BlueprintSet.map((b) => b.BlueprintId);

  // A refusal comes back as the SDK's own exception, with the cloud's code.
  try {
    await cvm.ModifyImageSharePermission({
      ImageId: "img-nonexist",
      AccountIds: ["100000000002"],
      Permission: "SHARE",
    });
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
