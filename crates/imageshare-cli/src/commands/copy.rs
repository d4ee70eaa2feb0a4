//! `imageshare copy`: an own copy, a copy in another region, or (UCloud) a copy in
//! another project.

use imageshare::ImageSharingExt;
use std::fmt;

use imageshare::core::{CopyTarget, ImageId};
use serde::Serialize;

use crate::cli::{check_project_id, image_id, Global};
use crate::connect::connect;
use crate::exit::{usage, Failure};
use crate::output::Document;
use crate::trail;

/// `imageshare copy ID [--to-region R | --to-project P] [--name N]`.
pub async fn run(
    g: &Global,
    id: &str,
    to_region: Option<String>,
    to_project: Option<String>,
    name: Option<String>,
) -> Result<NewImage, Failure> {
    let p = g.provider()?;
    let id = image_id(p, id, true)?;
    if let Some(project) = &to_project {
        let with_projects: Vec<&str> = imageshare::registry::providers()
            .filter(|s| s.limits.principal_kind == imageshare::core::PrincipalKind::Project)
            .map(|s| s.provider.name())
            .collect();
        if !with_projects.contains(&p.name()) {
            return Err(usage(format!(
                "--to-project is for {} only: {p} images belong to an account, not a \
                 project (copy with --to-region, or without either for an own copy)",
                with_projects.join(", ")
            )));
        }
        check_project_id(p, "--to-project", project)?;
    }
    // Only a copy into another project hands the image to someone else.
    let log = match &to_project {
        Some(_) => trail::open(g)?,
        None => None,
    };
    let s = connect(g, p, None, log.as_ref())?;
    let target = match (to_region, to_project) {
        (_, Some(project)) => CopyTarget::Project {
            project: project.into(),
            region: None,
            name,
        },
        (Some(region), None) => CopyTarget::Region {
            region: region.into(),
            name,
        },
        (None, None) => CopyTarget::OwnCopy { name },
    };
    Ok(NewImage {
        image: s.copy(&id, target).await?,
    })
}

/// The image a command made (`copy`, `migrate lighthouse-to-cvm`). Text: its id. JSON:
/// `{"image": ID}`.
#[derive(Debug, Serialize)]
pub struct NewImage {
    /// The new image's id.
    pub image: ImageId,
}

impl fmt::Display for NewImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.image)
    }
}

impl Document for NewImage {}
