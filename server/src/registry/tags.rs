//! Tag listing: `GET /v2/<name>/tags/list?n=…`, following `Link: <…>; rel="next"` (RFC 8288)
//! until the registry stops sending one, as the distribution spec asks clients to prefer.

use std::collections::HashSet;

use http::{HeaderMap, Method, header};
use serde::Deserialize;
use url::Url;

use super::client::{RegistryClient, pull_scope};
use super::error::{Cause, Operation, RegistryError};
use super::reference::ImageRef;
use super::stats::RequestKind;

/// A tag list longer than this many pages is treated as a hostile answer.
const MAX_TAG_PAGES: usize = 10_000;

#[derive(Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

impl RegistryClient {
    /// Every tag, following `Link: <…>; rel="next"` until the registry stops sending one.
    pub async fn list_tags(&self, image: &ImageRef) -> Result<Vec<String>, RegistryError> {
        let operation = || Operation::ListTags {
            repository: image.repository.clone(),
        };
        let fail = |cause| self.error(operation(), cause);
        let mut url = self
            .url(&format!(
                "/v2/{}/tags/list?n={}",
                image.repository, self.limits.tag_page_size
            ))
            .map_err(fail)?;
        let scope = pull_scope(&image.repository);
        let mut tags = Vec::new();
        let mut visited = HashSet::new();
        loop {
            if !visited.insert(url.clone()) || visited.len() > MAX_TAG_PAGES {
                return Err(fail(Cause::InvalidAnswer {
                    reason: format!("tag list pagination loops at {url}"),
                }));
            }
            let answer = self
                .send(RequestKind::TagList, Method::GET, url.clone(), None, &scope)
                .await
                .map_err(fail)?;
            let next = next_link(answer.response.headers(), &url);
            let body = self.read_verified(answer, None).await.map_err(fail)?;
            let page: TagList = serde_json::from_slice(&body).map_err(|error| {
                fail(Cause::InvalidAnswer {
                    reason: format!("tag list is not JSON: {error}"),
                })
            })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(next) => url = next,
                None => return Ok(tags),
            }
        }
    }
}

/// The `rel="next"` target of a `Link` header (RFC 8288), resolved against the page URL.
fn next_link(headers: &HeaderMap, current: &Url) -> Option<Url> {
    headers
        .get_all(header::LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|link| {
            let (target, params) = link.split_once(';')?;
            let is_next = params.split(';').any(|param| {
                matches!(
                    param.trim().replace(' ', "").as_str(),
                    "rel=\"next\"" | "rel=next"
                )
            });
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            is_next.then(|| current.join(target).ok()).flatten()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_next_is_resolved_against_the_page() {
        let current = Url::parse("http://127.0.0.1:5000/v2/app/tags/list?n=100").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::LINK,
            "</v2/app/tags/list?last=v099&n=100>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers, &current).unwrap().as_str(),
            "http://127.0.0.1:5000/v2/app/tags/list?last=v099&n=100"
        );
        headers.insert(
            header::LINK,
            "<https://other.example/x>; rel=\"prev\"".parse().unwrap(),
        );
        assert_eq!(next_link(&headers, &current), None);
    }
}
