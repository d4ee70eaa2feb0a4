//! What differs per provider in the behaviour suite: region, id format, the share action,
//! the image kinds its surface has. Adapters are built in `suite.rs` through
//! `imageshare::testing::ConnectEmulator`; nothing here tests anything.

use imageshare::core::{ImageKind, Provider};

use crate::suite::Target;

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

impl Target for Cvm {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::SystemDisk, ImageKind::WholeMachine]
    }
    fn provider(&self) -> Provider {
        imageshare::tencent::CVM
    }
    fn region(&self) -> &'static str {
        "ap-guangzhou"
    }
    fn other_region(&self) -> &'static str {
        "ap-shanghai"
    }
    fn third_region(&self) -> &'static str {
        "ap-beijing"
    }
    fn image_id(&self, n: usize) -> String {
        format!("img-b{n:07}")
    }
    fn share_action(&self) -> &'static str {
        "ModifyImageSharePermission"
    }
    fn sharees_listing(&self) -> (&'static str, Option<usize>) {
        // Not paged: one call answers every sharee.
        ("DescribeImageSharePermission", None)
    }
    fn shared_listing(&self) -> (&'static str, usize) {
        ("DescribeImages", imageshare::tencent::PAGE_SIZE as usize)
    }
    // No server-only rule: DescribeImages reports no encryption, but CBS DescribeSnapshots
    // does for the image's snapshots, so the checker refuses an encrypted image itself.
}

impl Target for Lighthouse {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::LightweightHost]
    }
    fn provider(&self) -> Provider {
        imageshare::tencent::LIGHTHOUSE
    }
    fn region(&self) -> &'static str {
        "ap-guangzhou"
    }
    fn other_region(&self) -> &'static str {
        "ap-shanghai"
    }
    fn third_region(&self) -> &'static str {
        "ap-beijing"
    }
    fn image_id(&self, n: usize) -> String {
        format!("lhbp-b{n:07}")
    }
    fn share_action(&self) -> &'static str {
        "ShareBlueprintAcrossAccounts"
    }
    fn sharees_listing(&self) -> (&'static str, Option<usize>) {
        (
            "DescribeBlueprintsShareAcrossAccountInfos",
            Some(imageshare::tencent::PAGE_SIZE as usize),
        )
    }
    fn shared_listing(&self) -> (&'static str, usize) {
        (
            "DescribeBlueprints",
            imageshare::tencent::PAGE_SIZE as usize,
        )
    }
}

impl Target for Ecs {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::SystemDisk, ImageKind::WholeMachine]
    }
    fn provider(&self) -> Provider {
        imageshare::alibaba::ECS
    }
    fn region(&self) -> &'static str {
        "cn-hangzhou"
    }
    fn other_region(&self) -> &'static str {
        "cn-shanghai"
    }
    fn third_region(&self) -> &'static str {
        "cn-beijing"
    }
    fn image_id(&self, n: usize) -> String {
        format!("m-bp{n:016}")
    }
    fn share_action(&self) -> &'static str {
        "ModifyImageSharePermission"
    }
    fn sharees_listing(&self) -> (&'static str, Option<usize>) {
        (
            "DescribeImageSharePermission",
            Some(imageshare_alibaba::ecs::PAGE_SIZE as usize),
        )
    }
    fn shared_listing(&self) -> (&'static str, usize) {
        (
            "DescribeImages",
            imageshare_alibaba::ecs::PAGE_SIZE as usize,
        )
    }
}

impl Target for Sas {
    fn kinds(&self) -> &'static [ImageKind] {
        &[ImageKind::LightweightHost]
    }
    fn provider(&self) -> Provider {
        imageshare::alibaba::SAS
    }
    fn region(&self) -> &'static str {
        "cn-hangzhou"
    }
    fn other_region(&self) -> &'static str {
        "cn-shanghai"
    }
    fn third_region(&self) -> &'static str {
        "cn-beijing"
    }
    fn image_id(&self, n: usize) -> String {
        format!("m-sas{n:015}")
    }
    fn share_action(&self) -> &'static str {
        "AddCustomImageShareAccount"
    }
    fn sharees_listing(&self) -> (&'static str, Option<usize>) {
        (
            "ListCustomImageShareAccounts",
            Some(imageshare_alibaba::sas::SHAREES_PAGE_SIZE as usize),
        )
    }
    fn shared_listing(&self) -> (&'static str, usize) {
        (
            "ListCustomImages",
            imageshare_alibaba::sas::IMAGES_PAGE_SIZE as usize,
        )
    }
}

impl Target for UCloud {
    fn provider(&self) -> Provider {
        imageshare::ucloud::UHOST
    }
    fn region(&self) -> &'static str {
        "cn-bj2"
    }
    fn other_region(&self) -> &'static str {
        "cn-sh2"
    }
    fn third_region(&self) -> &'static str {
        "hk"
    }
    fn image_id(&self, n: usize) -> String {
        format!("uimage-b{n:07}")
    }
    fn share_action(&self) -> &'static str {
        imageshare::ucloud::SharingActions::SHARE
    }
    fn sharees_listing(&self) -> (&'static str, Option<usize>) {
        (
            imageshare::ucloud::SharingActions::DESCRIBE_SHARE,
            Some(imageshare_ucloud::sharing::DEFAULT_PAGE_SIZE as usize),
        )
    }
    fn shared_listing(&self) -> (&'static str, usize) {
        (
            imageshare::ucloud::SharingActions::DESCRIBE_SHARED,
            imageshare_ucloud::sharing::DEFAULT_PAGE_SIZE as usize,
        )
    }
}
