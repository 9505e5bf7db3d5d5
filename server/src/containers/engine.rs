//! [`ContainerControl`] on the real Docker engine.

use async_trait::async_trait;
use bollard::query_parameters::{
    ListImagesOptions, RemoveImageOptions, StartContainerOptions, StopContainerOptions,
};
use chrono::{DateTime, Utc};

use super::{ContainerControl, ContainersError, LocalImageEntry};
use crate::discovery::docker::EngineDocker;

/// How long a stopped container may take to exit before the engine kills it.
const STOP_GRACE_SECONDS: i32 = 10;

#[async_trait]
impl ContainerControl for EngineDocker {
    async fn start(&self, container: &str) -> Result<(), ContainersError> {
        self.client()
            .start_container(container, None::<StartContainerOptions>)
            .await
            .map_err(|source| ContainersError::Start {
                container: container.to_owned(),
                source,
            })
    }

    async fn stop(&self, container: &str) -> Result<(), ContainersError> {
        let options = StopContainerOptions {
            t: Some(STOP_GRACE_SECONDS),
            ..Default::default()
        };
        self.client()
            .stop_container(container, Some(options))
            .await
            .map_err(|source| ContainersError::Stop {
                container: container.to_owned(),
                source,
            })
    }

    async fn images(&self, repository: &str) -> Result<Vec<LocalImageEntry>, ContainersError> {
        let filters = std::collections::HashMap::from([(
            "reference".to_owned(),
            vec![repository.to_owned()],
        )]);
        let options = ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        };
        let summaries = self
            .client()
            .list_images(Some(options))
            .await
            .map_err(|source| ContainersError::ListImages {
                repository: repository.to_owned(),
                source,
            })?;
        let mut images: Vec<LocalImageEntry> = summaries
            .into_iter()
            .map(|summary| LocalImageEntry {
                id: summary.id,
                tags: summary.repo_tags,
                created: DateTime::<Utc>::from_timestamp(summary.created, 0).unwrap_or_default(),
            })
            .collect();
        images.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(images)
    }

    async fn remove_image(&self, id: &str) -> Result<(), ContainersError> {
        self.client()
            .remove_image(id, None::<RemoveImageOptions>, None)
            .await
            .map(|_removed| ())
            .map_err(|source| ContainersError::RemoveImage {
                image: id.to_owned(),
                source,
            })
    }
}
