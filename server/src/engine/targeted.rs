//! Checks of just the services a registry push concerns (registry webhooks), instead of
//! waiting for the next scheduled cycle.

use super::{CycleReport, Engine, EngineError};
use crate::registry::ImageRef;

impl Engine {
    /// Run the normal cycle — rank, then deploy or report per each service's update mode —
    /// restricted to services whose image repository is one of `repositories`. Each entry
    /// is a repository path (`team/app`), or a full name with its registry
    /// (`registry.example.com/team/app`).
    pub async fn check_repositories(
        &self,
        repositories: &[String],
    ) -> Result<CycleReport, EngineError> {
        self.check(false, |reference| matches_any(reference, repositories))
            .await
    }
}

fn matches_any(reference: &ImageRef, repositories: &[String]) -> bool {
    repositories.iter().any(|wanted| {
        let wanted = wanted.trim_matches('/');
        wanted == reference.repository || wanted == reference.name()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_matches_by_path_or_full_name() {
        let reference = ImageRef::parse("127.0.0.1:5000/team/app:1.0.0").unwrap();
        assert!(matches_any(&reference, &["team/app".into()]));
        assert!(matches_any(&reference, &["127.0.0.1:5000/team/app".into()]));
        assert!(!matches_any(
            &reference,
            &["team/other".into(), "app".into()]
        ));
        let hub = ImageRef::parse("nginx:1.25").unwrap();
        assert!(matches_any(&hub, &["library/nginx".into()]));
    }
}
