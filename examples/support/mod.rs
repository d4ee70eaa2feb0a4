//! Small helpers shared by the examples (not an example itself).
#![allow(dead_code)]

use std::process::ExitCode;

use imageshare::Provider;

/// The value after `name` on the command line (`--region cn-hangzhou`).
pub fn flag(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

/// The region to use on the real cloud: only when the cloud's key variable is set, from
/// `--region` or the cloud's own region variable. `None` means: use the emulator.
pub fn cloud_region(provider: Provider) -> Option<String> {
    let (key, region_var) = match provider {
        imageshare::alibaba::ECS | imageshare::alibaba::SAS => {
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_REGION_ID")
        }
        imageshare::tencent::CVM | imageshare::tencent::LIGHTHOUSE => {
            ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_REGION")
        }
        imageshare::ucloud::UHOST => ("UCLOUD_PUBLIC_KEY", "UCLOUD_REGION"),
        _ => return None,
    };
    std::env::var(key).ok()?;
    flag("--region").or_else(|| std::env::var(region_var).ok())
}

/// The exit status of an example: prints the error (its `Display`) on failure.
pub fn exit<E: std::fmt::Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// An example's own check: `Err` saying what was expected when `ok` is false.
pub fn expect(ok: bool, what: &str) -> Result<(), Box<dyn std::error::Error>> {
    if ok {
        Ok(())
    } else {
        Err(format!("unexpected: it is not true that {what}").into())
    }
}
