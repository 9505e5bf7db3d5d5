//! What the registries are asked in one cycle: each repository's tag list at most once
//! (only for services whose tag strategy needs it), and each floating tag's digest once.
//! Each registry's questions run side by side, so one slow registry does not hold up the
//! others; how many requests one registry gets at once is its own gate's business
//! (`REGISTRY_CONCURRENCY`).

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;

use super::decision::Prepared;
use super::{Engine, error_chain};
use crate::events::Event;
use crate::registry::{Cause, DigestCheck, ImageRef, RegistryError, RemoteTag};

/// Questions in flight per registry on the engine's side. The registry's gate admits
/// fewer at a time; this only bounds the futures waiting at it.
const QUESTIONS_PER_REGISTRY: usize = 64;

/// What one service needs to be asked.
pub(super) enum Wants<'a> {
    /// The repository's tags, to rank.
    Tags(&'a ImageRef),
    /// A floating tag's digest, against the image the service's container runs (its image
    /// id), or, with no container, the local image `image` (as the compose file names it).
    Digest {
        reference: &'a ImageRef,
        image: &'a str,
        running: Option<&'a str>,
    },
}

/// The registries' answers for one cycle.
#[derive(Default)]
pub(super) struct Lookups {
    /// By repository name (`registry/repository`).
    tags: HashMap<String, Result<Vec<RemoteTag>, String>>,
    /// By [`digest_key`].
    digests: HashMap<String, Result<DigestCheck, String>>,
}

impl Lookups {
    pub fn tags(&self, reference: &ImageRef) -> Option<&Result<Vec<RemoteTag>, String>> {
        self.tags.get(&reference.name())
    }

    pub fn digest(
        &self,
        image: &str,
        running: Option<&str>,
    ) -> Option<&Result<DigestCheck, String>> {
        self.digests.get(&digest_key(image, running))
    }
}

/// One question per image reference and running image: two services on one floating tag
/// may run different images.
fn digest_key(image: &str, running: Option<&str>) -> String {
    format!("{image} {}", running.unwrap_or("-"))
}

enum Question {
    Tags(ImageRef),
    Digest {
        reference: ImageRef,
        image: String,
        running: Option<String>,
    },
}

enum Answer {
    Tags(String, Result<Vec<RemoteTag>, String>),
    Digest(String, Result<DigestCheck, String>),
}

impl Engine {
    /// Ask every registry what the prepared services need, each question once.
    pub(super) async fn look_up(&self, prepared: &[Prepared]) -> Lookups {
        // Keyed so each question is asked once, grouped by registry.
        let mut questions: BTreeMap<String, BTreeMap<String, Question>> = BTreeMap::new();
        for item in prepared {
            let (registry, key, question) = match item.wants() {
                Some(Wants::Tags(reference)) => (
                    &reference.registry,
                    format!("tags {}", reference.name()),
                    Question::Tags(reference.clone()),
                ),
                Some(Wants::Digest {
                    reference,
                    image,
                    running,
                }) => (
                    &reference.registry,
                    format!("digest {}", digest_key(image, running)),
                    Question::Digest {
                        reference: reference.clone(),
                        image: image.to_owned(),
                        running: running.map(str::to_owned),
                    },
                ),
                None => continue,
            };
            questions
                .entry(registry.clone())
                .or_default()
                .entry(key)
                .or_insert(question);
        }
        let per_registry = questions.into_values().map(|questions| {
            futures::stream::iter(questions.into_values())
                .map(|question| self.ask(question))
                .buffer_unordered(QUESTIONS_PER_REGISTRY)
                .collect::<Vec<Answer>>()
        });
        let mut lookups = Lookups::default();
        for answer in futures::future::join_all(per_registry)
            .await
            .into_iter()
            .flatten()
        {
            match answer {
                Answer::Tags(name, tags) => {
                    lookups.tags.insert(name, tags);
                }
                Answer::Digest(image, check) => {
                    lookups.digests.insert(image, check);
                }
            }
        }
        lookups
    }

    async fn ask(&self, question: Question) -> Answer {
        match question {
            Question::Tags(reference) => {
                let tags = self.adapters.registry.list_tags(&reference).await;
                Answer::Tags(reference.name(), tags.map_err(|error| self.failed(&error)))
            }
            Question::Digest {
                reference,
                image,
                running,
            } => {
                let check = self
                    .check_digest(&reference, &image, running.as_deref())
                    .await;
                Answer::Digest(digest_key(&image, running.as_deref()), check)
            }
        }
    }

    /// The registry's digest for a floating tag against the RepoDigests of the image that
    /// runs (`running`, an image id), else of the local image `image`.
    async fn check_digest(
        &self,
        reference: &ImageRef,
        image: &str,
        running: Option<&str>,
    ) -> Result<DigestCheck, String> {
        let local = self
            .adapters
            .docker
            .local_image(running.unwrap_or(image))
            .await
            .map_err(|error| format!("docker: {}", error_chain(&error)))?
            .ok_or_else(|| {
                format!(
                    "{image} is followed by digest, but Docker has no local image of it to compare with"
                )
            })?;
        self.adapters
            .registry
            .check_digest(reference, &local.repo_digests)
            .await
            .map_err(|error| self.failed(&error))
    }

    /// The error as the service's report shows it; refused credentials are also an event,
    /// since a person has to act (unlike a timeout).
    fn failed(&self, error: &RegistryError) -> String {
        if matches!(
            error.cause,
            Cause::BadCredentials { .. } | Cause::Credentials { .. }
        ) {
            self.events.publish(Event::RegistryAuthFailed {
                registry: error.registry.clone(),
                error: error_chain(error),
            });
        }
        error_chain(error)
    }
}
