//! `imageshare publish` / `unpublish`: make an Alibaba ECS custom image a community image
//! (usable by every account in its region), or make it private again
//! (`ModifyImageSharePermission` `IsPublic=true` / `false`; the library's
//! `EcsImageSharing::publish` / `unpublish`). Both write the audit trail (see
//! [`crate::trail`]): one `publish` / `unpublish` record whose principal is everyone in
//! the region, or the failure of a call that was sent.

use std::fmt;

use imageshare::alibaba::Publish;
use imageshare::core::{CallContext, ImageId, ImageSharing};
use serde::Serialize;

use crate::cli::{image_id, Global};
use crate::connect::options;
use crate::exit::{usage, Failure};
use crate::output::Document;
use crate::trail;

/// `imageshare publish ID --everyone-in-the-region` (`publish = true`) or `imageshare
/// unpublish ID`. Only `alibaba-ecs` has community images; publishing without the
/// confirmation flag is refused before anything is sent, and so is what the cloud would
/// refuse (an encrypted, marketplace-derived, not own or not available image).
pub async fn run(
    g: &Global,
    id: &str,
    publish: bool,
    confirmed: bool,
) -> Result<Published, Failure> {
    let p = g.provider()?;
    if p != imageshare::alibaba::ECS {
        return Err(usage(format!(
            "{p} has no community images; publish and unpublish are for alibaba-ecs"
        )));
    }
    let id = image_id(p, id, true)?;
    if publish && !confirmed {
        return Err(usage(
            "publishing makes the image usable by every Alibaba Cloud account in its region; \
             pass --everyone-in-the-region to confirm",
        ));
    }
    let log = trail::open(g)?;
    let ecs = options(g, p, None, None).ecs()?;
    let result = if publish {
        ecs.publish(&id, Publish::CONFIRMED).await
    } else {
        ecs.unpublish(&id).await
    };
    let request_id = match log {
        Some(log) => {
            log.with_identity(ecs.credentials_source())
                .record_community(&CallContext::new(), (p, ecs.region()), &id, publish, result)
                .await?
        }
        None => result?,
    };
    Ok(Published {
        image: id,
        public: publish,
        request_id,
    })
}

/// What `publish` / `unpublish` print. Text: `published ID (request REQ)` or `unpublished
/// ID ...`. JSON: `{"image": ID, "public": bool, "request_id": REQ}`.
#[derive(Debug, Serialize)]
pub struct Published {
    /// The image.
    image: ImageId,
    /// Whether it is a community image now.
    public: bool,
    /// The request id of `ModifyImageSharePermission`.
    request_id: String,
}

impl fmt::Display for Published {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.public {
            "published"
        } else {
            "unpublished"
        };
        write!(f, "{what} {} (request {})", self.image, self.request_id)?;
        if self.public {
            write!(f, "; every account in its region can now use it")?;
        }
        Ok(())
    }
}

impl Document for Published {}
