//! The three push-event formats Berth accepts, read into the pushes they announce:
//!
//! - CNCF distribution (`docker-registry`) notifications, media type
//!   `application/vnd.docker.distribution.events.v1+json`:
//!   `{"events":[{"action":"push","target":{"repository","tag","digest","mediaType"},"request":{"host"}}]}`;
//! - Docker Hub webhooks: `{"push_data":{"tag"},"repository":{"repo_name"}}`;
//! - Harbor webhooks: `{"type":"PUSH_ARTIFACT","event_data":{"resources":[{"tag"}],"repository":{"repo_full_name"}}}`.

use serde_json::Value;

/// One pushed tag (a push without a tag, such as a blob upload, announces nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// The repository path inside its registry (`team/app`; Docker Hub's official images
    /// as `library/nginx`).
    pub repository: String,
    pub tag: String,
    pub digest: Option<String>,
}

/// What a webhook body announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// `distribution`, `dockerhub` or `harbor`.
    pub source: &'static str,
    pub pushes: Vec<Push>,
    /// Events that are not tag pushes (pulls, deletes, blob pushes, scans).
    pub ignored: usize,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("the body is not JSON: {0}")]
    ParseJson(String),
    #[error(
        "the body is neither a registry notification ({{\"events\":[…]}}), a Docker Hub \
         webhook (push_data, repository) nor a Harbor event (type, event_data)"
    )]
    UnknownFormat,
    #[error("{field} is missing or not a string")]
    MissingField { field: String },
}

pub fn parse(body: &[u8]) -> Result<Announcement, PayloadError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|error| PayloadError::ParseJson(error.to_string()))?;
    if let Some(events) = value.get("events") {
        distribution(events)
    } else if value.get("push_data").is_some() {
        docker_hub(&value)
    } else if value.get("event_data").is_some() {
        harbor(&value)
    } else {
        Err(PayloadError::UnknownFormat)
    }
}

fn distribution(events: &Value) -> Result<Announcement, PayloadError> {
    let events = events
        .as_array()
        .ok_or_else(|| missing("events (an array)"))?;
    let mut announcement = Announcement {
        source: "distribution",
        pushes: Vec::new(),
        ignored: 0,
    };
    for (index, event) in events.iter().enumerate() {
        let action = text(event, &format!("events[{index}].action"), &["action"])?;
        let tag = event.pointer("/target/tag").and_then(Value::as_str);
        match (action, tag) {
            ("push", Some(tag)) if !tag.is_empty() => {
                let repository = text(
                    event,
                    &format!("events[{index}].target.repository"),
                    &["target", "repository"],
                )?;
                announcement.pushes.push(Push {
                    repository: repository.to_owned(),
                    tag: tag.to_owned(),
                    digest: event
                        .pointer("/target/digest")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                });
            }
            _ => announcement.ignored += 1,
        }
    }
    Ok(announcement)
}

fn docker_hub(value: &Value) -> Result<Announcement, PayloadError> {
    let tag = text(value, "push_data.tag", &["push_data", "tag"])?;
    let name = text(value, "repository.repo_name", &["repository", "repo_name"])?;
    // Official images are `nginx` on Docker Hub and `library/nginx` in the registry API.
    let repository = if name.contains('/') {
        name.to_owned()
    } else {
        format!("library/{name}")
    };
    Ok(Announcement {
        source: "dockerhub",
        pushes: vec![Push {
            repository,
            tag: tag.to_owned(),
            digest: None,
        }],
        ignored: 0,
    })
}

fn harbor(value: &Value) -> Result<Announcement, PayloadError> {
    let kind = text(value, "type", &["type"])?;
    let mut announcement = Announcement {
        source: "harbor",
        pushes: Vec::new(),
        ignored: 0,
    };
    if kind != "PUSH_ARTIFACT" {
        announcement.ignored = 1;
        return Ok(announcement);
    }
    let repository = text(
        value,
        "event_data.repository.repo_full_name",
        &["event_data", "repository", "repo_full_name"],
    )?;
    let resources = value
        .pointer("/event_data/resources")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("event_data.resources (an array)"))?;
    for resource in resources {
        match resource.get("tag").and_then(Value::as_str) {
            Some(tag) if !tag.is_empty() => announcement.pushes.push(Push {
                repository: repository.to_owned(),
                tag: tag.to_owned(),
                digest: resource
                    .get("digest")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            _ => announcement.ignored += 1,
        }
    }
    Ok(announcement)
}

fn text<'v>(value: &'v Value, field: &str, path: &[&str]) -> Result<&'v str, PayloadError> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| missing(field))
}

fn missing(field: &str) -> PayloadError {
    PayloadError::MissingField {
        field: field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_distribution_notification_yields_its_tag_pushes_only() {
        let body = br#"{"events":[
            {"id":"1","action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"team/app","digest":"sha256:ab","tag":"1.2.0"},"request":{"host":"127.0.0.1:5000"}},
            {"id":"2","action":"push","target":{"mediaType":"application/octet-stream","repository":"team/app","digest":"sha256:cd"}},
            {"id":"3","action":"pull","target":{"repository":"team/app","tag":"1.1.0"}}
        ]}"#;
        let announcement = parse(body).unwrap();
        assert_eq!(announcement.source, "distribution");
        assert_eq!(
            announcement.pushes,
            [Push {
                repository: "team/app".into(),
                tag: "1.2.0".into(),
                digest: Some("sha256:ab".into())
            }]
        );
        assert_eq!(announcement.ignored, 2);
    }

    #[test]
    fn docker_hub_and_harbor_bodies_are_read() {
        let hub = br#"{"callback_url":"https://registry.hub.docker.com/u/x/hook/1/","push_data":{"pushed_at":1,"pusher":"x","tag":"latest"},"repository":{"repo_name":"nginx","namespace":"library"}}"#;
        let pushes = parse(hub).unwrap().pushes;
        assert_eq!(
            (pushes[0].repository.as_str(), pushes[0].tag.as_str()),
            ("library/nginx", "latest")
        );

        let harbor = br#"{"type":"PUSH_ARTIFACT","occur_at":1,"operator":"admin","event_data":{"resources":[{"digest":"sha256:ef","tag":"2.0.0","resource_url":"harbor.example.com/team/app:2.0.0"}],"repository":{"name":"app","namespace":"team","repo_full_name":"team/app","repo_type":"private"}}}"#;
        let announcement = parse(harbor).unwrap();
        assert_eq!(announcement.source, "harbor");
        assert_eq!(announcement.pushes[0].repository, "team/app");
        assert_eq!(announcement.pushes[0].tag, "2.0.0");

        let scan = br#"{"type":"SCANNING_COMPLETED","event_data":{}}"#;
        assert_eq!(parse(scan).unwrap().ignored, 1);
    }

    #[test]
    fn malformed_bodies_name_what_is_wrong() {
        assert!(matches!(
            parse(b"{not json"),
            Err(PayloadError::ParseJson(_))
        ));
        assert_eq!(parse(b"{\"hello\":1}"), Err(PayloadError::UnknownFormat));
        assert_eq!(
            parse(br#"{"events":[{"action":"push","target":{"tag":"1.0"}}]}"#),
            Err(PayloadError::MissingField {
                field: "events[0].target.repository".into()
            })
        );
        assert_eq!(
            parse(br#"{"push_data":{},"repository":{"repo_name":"x/y"}}"#),
            Err(PayloadError::MissingField {
                field: "push_data.tag".into()
            })
        );
    }
}
