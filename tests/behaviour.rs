//! The behaviour suite, run for every adapter against the emulator. The test bodies live
//! once in `behaviour/suite.rs`; `behaviour/targets.rs` only says how to build each
//! provider's adapter.

#[path = "behaviour/suite.rs"]
mod suite;
#[path = "behaviour/targets.rs"]
mod targets;

mod tencent_cvm {
    // 500 sharees on one CVM image (the documented maximum) and 1,200 received images.
    crate::behaviour_suite!(crate::targets::Cvm, sharees = 500, received = 1200);
}

mod tencent_lighthouse {
    crate::behaviour_suite!(crate::targets::Lighthouse, sharees = 120, received = 250);
}

mod alibaba_ecs {
    // 50 sharees: the ECS per-image maximum.
    crate::behaviour_suite!(crate::targets::Ecs, sharees = 50, received = 250);
}

mod alibaba_sas {
    // 10 sharees: the SAS per-image maximum.
    crate::behaviour_suite!(crate::targets::Sas, sharees = 10, received = 120);
}

mod ucloud {
    // 50 projects: the UHost per-image maximum.
    crate::behaviour_suite!(crate::targets::UCloud, sharees = 50, received = 250);
}
