// Alibaba Cloud's current (Tea / Darabonba) ECS SDK for Node.js, @alicloud/ecs20140526,
// against the imageshare emulator, pointed at it the way its docs set an endpoint
// (`new Config({endpoint: "HOST:PORT", protocol: "http", ...})`). It signs with
// ACS3-HMAC-SHA256.
//
// Environment: IMAGESHARE_ENDPOINT (http://host:port), ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET. Prints one JSON object; exits 1 on any SDK error.
"use strict";

const Ecs = require("@alicloud/ecs20140526");
const { $OpenApiUtil } = require("@alicloud/openapi-core");

const REGION = "cn-hangzhou";
const IMAGE = "m-bp18ygjuqnwhechc";

const client = new Ecs.default(
  new $OpenApiUtil.Config({
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    regionId: REGION,
    endpoint: new URL(process.env.IMAGESHARE_ENDPOINT).host,
    protocol: "http",
  }),
);

async function main() {
  const out = {};
  const images = await client.describeImages(
    new Ecs.DescribeImagesRequest({ regionId: REGION, imageId: IMAGE }),
  );
  out.describe = images.body.images.image.map((i) => i.imageId);
  const shared = await client.modifyImageSharePermission(
    new Ecs.ModifyImageSharePermissionRequest({
      regionId: REGION,
      imageId: IMAGE,
      addAccount: ["100000000002"],
    }),
  );
  out.share_request_id = shared.body.requestId;
  const perms = await client.describeImageSharePermission(
    new Ecs.DescribeImageSharePermissionRequest({ regionId: REGION, imageId: IMAGE }),
  );
  out.sharees = perms.body.accounts.account.map((a) => a.aliyunId);
  try {
    await client.modifyImageSharePermission(
      new Ecs.ModifyImageSharePermissionRequest({
        regionId: REGION,
        imageId: "m-bpdoesnotexist",
        addAccount: ["100000000002"],
      }),
    );
    out.refusal = null;
  } catch (e) {
    out.refusal = e.code;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().catch((e) => {
  process.stderr.write(`${e.code || ""} ${e.message}\n`);
  process.exit(1);
});
