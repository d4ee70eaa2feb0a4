//! How each provider's adapter is built for the behaviour suite: region, id format, and
//! the adapter pointed at the emulator with the account's own keys. Nothing here tests
//! anything; the tests are in `suite.rs`.

use std::sync::Arc;

use imageshare::alibaba::{AlibabaCredentials, EcsImageSharing, SasImageSharing};
use imageshare::core::{ImageKind, ImageSharing, LimitRule, Provider};
use imageshare::tencent::{
    TencentCredentials, TencentCvmImageSharing, TencentLighthouseImageSharing,
};
use imageshare::ucloud::{UCloudCredentials, UCloudImageSharing};
use imageshare_emulator::Emulator;

use crate::suite::{project_of, AdapterOptions, Target};

fn secret(real: &str, options: &AdapterOptions) -> String {
    if options.wrong_secret {
        format!("{real}-wrong")
    } else {
        real.to_owned()
    }
}

/// Tencent CVM.
pub struct Cvm;
/// Tencent Lighthouse.
pub struct Lighthouse;
/// Alibaba ECS.
pub struct Ecs;
/// Alibaba Simple Application Server.
pub struct Sas;
/// UCloud UHost.
pub struct UCloud;

fn tencent_creds(emu: &Emulator, account: &str, o: &AdapterOptions) -> TencentCredentials {
    let key = emu.account(account).unwrap().keys.tencent.unwrap();
    TencentCredentials::new(key.id, secret(&key.secret, o))
}

fn alibaba_creds(emu: &Emulator, account: &str, o: &AdapterOptions) -> AlibabaCredentials {
    let key = emu.account(account).unwrap().keys.alibaba.unwrap();
    AlibabaCredentials::new(key.id, secret(&key.secret, o))
}

impl Target for Cvm {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::SystemDisk, ImageKind::WholeMachine]
    }
    fn provider(&self) -> Provider {
        Provider::TencentCvm
    }
    fn region(&self) -> &'static str {
        "ap-guangzhou"
    }
    fn other_region(&self) -> &'static str {
        "ap-shanghai"
    }
    fn image_id(&self, n: usize) -> String {
        format!("img-b{n:07}")
    }
    fn share_action(&self) -> &'static str {
        "ModifyImageSharePermission"
    }
    fn server_only_rules(&self) -> &'static [LimitRule] {
        // DescribeImages reports no encryption flag for an image.
        &[LimitRule::EncryptedImage]
    }
    fn adapter(
        &self,
        emu: &Emulator,
        account: &str,
        region: &str,
        o: AdapterOptions,
    ) -> Arc<dyn ImageSharing> {
        Arc::new(
            TencentCvmImageSharing::builder()
                .endpoint(emu.base_url())
                .region(region)
                .credentials(tencent_creds(emu, account, &o))
                .retry(o.retry)
                .build()
                .unwrap(),
        )
    }
}

impl Target for Lighthouse {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::LightweightHost]
    }
    fn provider(&self) -> Provider {
        Provider::TencentLighthouse
    }
    fn region(&self) -> &'static str {
        "ap-guangzhou"
    }
    fn other_region(&self) -> &'static str {
        "ap-shanghai"
    }
    fn image_id(&self, n: usize) -> String {
        format!("lhbp-b{n:07}")
    }
    fn share_action(&self) -> &'static str {
        "ShareBlueprintAcrossAccounts"
    }
    fn adapter(
        &self,
        emu: &Emulator,
        account: &str,
        region: &str,
        o: AdapterOptions,
    ) -> Arc<dyn ImageSharing> {
        Arc::new(
            TencentLighthouseImageSharing::builder()
                .endpoint(emu.base_url())
                .region(region)
                .credentials(tencent_creds(emu, account, &o))
                .retry(o.retry)
                .build()
                .unwrap(),
        )
    }
}

impl Target for Ecs {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::SystemDisk, ImageKind::WholeMachine]
    }
    fn provider(&self) -> Provider {
        Provider::AlibabaEcs
    }
    fn region(&self) -> &'static str {
        "cn-hangzhou"
    }
    fn other_region(&self) -> &'static str {
        "cn-shanghai"
    }
    fn image_id(&self, n: usize) -> String {
        format!("m-bp{n:016}")
    }
    fn share_action(&self) -> &'static str {
        "ModifyImageSharePermission"
    }
    fn adapter(
        &self,
        emu: &Emulator,
        account: &str,
        region: &str,
        o: AdapterOptions,
    ) -> Arc<dyn ImageSharing> {
        Arc::new(
            EcsImageSharing::builder()
                .endpoint(emu.base_url())
                .region(region)
                .credentials(alibaba_creds(emu, account, &o))
                .retry(o.retry)
                .build()
                .unwrap(),
        )
    }
}

impl Target for Sas {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::LightweightHost]
    }
    fn provider(&self) -> Provider {
        Provider::AlibabaSas
    }
    fn region(&self) -> &'static str {
        "cn-hangzhou"
    }
    fn other_region(&self) -> &'static str {
        "cn-shanghai"
    }
    fn image_id(&self, n: usize) -> String {
        format!("m-sas{n:015}")
    }
    fn share_action(&self) -> &'static str {
        "AddCustomImageShareAccount"
    }
    fn adapter(
        &self,
        emu: &Emulator,
        account: &str,
        region: &str,
        o: AdapterOptions,
    ) -> Arc<dyn ImageSharing> {
        Arc::new(
            SasImageSharing::builder()
                .endpoint(emu.base_url())
                .region(region)
                .credentials(alibaba_creds(emu, account, &o))
                .retry(o.retry)
                .build()
                .unwrap(),
        )
    }
}

impl Target for UCloud {
    fn provider(&self) -> Provider {
        Provider::UCloud
    }
    fn region(&self) -> &'static str {
        "cn-bj2"
    }
    fn other_region(&self) -> &'static str {
        "cn-sh2"
    }
    fn image_id(&self, n: usize) -> String {
        format!("uimage-b{n:07}")
    }
    fn share_action(&self) -> &'static str {
        imageshare::ucloud::SharingActions::SHARE
    }
    fn adapter(
        &self,
        emu: &Emulator,
        account: &str,
        region: &str,
        o: AdapterOptions,
    ) -> Arc<dyn ImageSharing> {
        let key = emu.account(account).unwrap().keys.ucloud.unwrap();
        Arc::new(
            UCloudImageSharing::builder()
                .endpoint(emu.base_url())
                .region(region)
                .project_id(project_of(account))
                .credentials(UCloudCredentials::new(key.public, secret(&key.private, &o)))
                .retry(o.retry)
                .build()
                .unwrap(),
        )
    }
}
