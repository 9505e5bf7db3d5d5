//! The spelling check: every key of the env file against the keys Berth reads. A key that
//! is one or two typos away from a known key is almost certainly a setting the user thinks
//! is in effect and is not, so it fails; a key close to nothing is someone's own and only
//! warns. Only key names are ever printed, never values.

use super::Finding;
use crate::discovery::config_map::REGISTRY_PREFIXES;

/// Every single key Berth reads, or that `scripts/generate_env.sh` and the role scripts write
/// (the README lists them).
const KNOWN_KEYS: &[&str] = &[
    // Server and engine (config/mod.rs, discovery, engine).
    "LISTEN_ADDR",
    "DATABASE_URL",
    "LEPTOS_SITE_ROOT",
    "CHECK_INTERVAL",
    "UPDATE_MODE",
    "HEALTH_TIMEOUT",
    "HEALTH_STABLE",
    "DISCOVER_FROM_LABELS",
    "DISCOVERED_UPDATE_MODE",
    "ALLOW_TAGS",
    // Registry client (registry/registries.rs) and docker's own credentials.
    "INSECURE_REGISTRIES",
    "REGISTRY_PLATFORM",
    "REGISTRY_TIMEOUT",
    "REGISTRY_TAG_PAGE_SIZE",
    "REGISTRY_CONCURRENCY",
    "REGISTRY_REQUESTS_PER_MINUTE",
    "REGISTRY_MAX_RETRY_WAIT",
    "DOCKER_CONFIG",
    "PATH",
    // berth-credential-helper, which logs in to ECR, ACR (Entra) and GCP (service account).
    "CLOUD_CREDENTIAL_HELPER",
    // AWS ECR.
    "ECR_REGISTRY",
    "AWS_REGION",
    "AWS_ROLE_ARN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ACCOUNT_ID",
    // Azure ACR.
    "AZURE_REGISTRY",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    // GCP.
    "GCP_REGISTRY_URL",
    "GCP_PROJECT",
    "GCP_ACCESS_TOKEN",
    "GCP_SERVICE_ACCOUNT_JSON",
    // Docker Hub.
    "DOCKERHUB_IMAGE_TYPE",
    "DOCKERHUB_USERNAME",
    "DOCKERHUB_PASSWORD",
    "DOCKERHUB_TOKEN",
    "DOCKERHUB_API_URL",
    // Harbor.
    "HARBOR_URL",
    "HARBOR_USERNAME",
    "HARBOR_PASSWORD",
    // Huawei SWR.
    "SWR_REGION",
    "SWR_ORGANIZATION",
    "SWR_ACCESS_KEY",
    "SWR_SECRET_KEY",
    "SWR_USERNAME",
    "SWR_LOGIN_KEY",
    // DigitalOcean DOCR, GHCR.
    "DO_REGISTRY",
    "DO_TOKEN",
    "GHCR_USERNAME",
    "GHCR_TOKEN",
    // Dashboard users.
    "AUTH_USERS",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "SESSION_TTL",
    "SECURE_COOKIES",
    "PUBLIC_URL",
    // Scanning (scan/config.rs).
    "TRIVY_ENABLED",
    "TRIVY_PATH",
    "TRIVY_CACHE_DIR",
    "TRIVY_SEVERITIES",
    "TRIVY_IGNORE_UNFIXED",
    "TRIVY_SERVER_URL",
    "TRIVY_TIMEOUT",
    "TRIVY_SCANNERS",
    "TRIVY_OFFLINE",
    "SCAN_GATE",
    "SCAN_GATE_ON_ERROR",
    // Notifications (notify/settings.rs), webhooks and metrics.
    "NOTIFY_URLS",
    "NOTIFY_RETRIES",
    "NOTIFY_BACKOFF",
    "WEBHOOK_SECRET",
    "METRICS_ENABLED",
    "METRICS_TOKEN",
];

const COMPOSE_FILE_PREFIX: &str = "COMPOSE_FILE_PATH_";
const REPOSITORY_MAP_INFIX: &str = "_REPOSITORY_MAP_";

/// What the spelling check concludes about one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyVerdict {
    Known,
    /// Close to a known key: almost certainly a typo of `suggestion`.
    Misspelled {
        suggestion: String,
    },
    /// Close to nothing Berth reads.
    Unknown,
}

/// One finding per problem key, or one `ok` line when every key is known.
pub fn check_keys<'k>(file_keys: impl IntoIterator<Item = &'k str>) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut known = 0;
    for key in file_keys {
        match judge(key) {
            KeyVerdict::Known => known += 1,
            KeyVerdict::Misspelled { suggestion } => findings.push(Finding::fail(
                key,
                format!("unknown key; did you mean {suggestion}?"),
            )),
            KeyVerdict::Unknown => findings.push(Finding::warn(
                key,
                "unknown key: Berth does not read it (ignored)",
            )),
        }
    }
    if findings.is_empty() {
        findings.push(Finding::ok(
            "configuration keys",
            format!("all {known} key(s) of the env file are known"),
        ));
    }
    findings
}

pub fn judge(key: &str) -> KeyVerdict {
    if is_known(key) {
        return KeyVerdict::Known;
    }
    // Case slips are compared as typos too: `check_interval` is one fix from the real key.
    let upper = key.to_ascii_uppercase();
    let nearest = candidates(&upper)
        .map(|(candidate, distance)| (distance, candidate))
        .min();
    match nearest {
        Some((distance, suggestion)) if distance <= allowed_distance(key) => {
            KeyVerdict::Misspelled { suggestion }
        }
        _ => KeyVerdict::Unknown,
    }
}

fn is_known(key: &str) -> bool {
    KNOWN_KEYS.contains(&key)
        || has_family_prefix(key, COMPOSE_FILE_PREFIX)
        || REGISTRY_PREFIXES
            .iter()
            .any(|registry| has_family_prefix(key, &repository_map_prefix(registry)))
        || is_numbered_user_key(key)
        || is_named_channel_key(key)
}

/// `NOTIFY_<NAME>_URL` and `NOTIFY_<NAME>_SECRET`: one named notification channel.
fn is_named_channel_key(key: &str) -> bool {
    key.strip_prefix("NOTIFY_").is_some_and(|rest| {
        ["_URL", "_SECRET"]
            .iter()
            .any(|suffix| rest.len() > suffix.len() && rest.ends_with(suffix))
    })
}

/// A family key needs a name after its prefix: `COMPOSE_FILE_PATH_` alone names nothing.
fn has_family_prefix(key: &str, prefix: &str) -> bool {
    key.len() > prefix.len() && key.starts_with(prefix)
}

fn repository_map_prefix(registry: &str) -> String {
    format!("{registry}{REPOSITORY_MAP_INFIX}")
}

/// `USERn_EMAIL` / `USERn_PASSWORD` with n one or more digits.
fn is_numbered_user_key(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("USER") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && matches!(&rest[digits..], "_EMAIL" | "_PASSWORD")
}

/// A typo or two in a short key, more in a long one, but never so many that unrelated
/// keys look alike.
fn allowed_distance(key: &str) -> usize {
    (key.len() / 6).clamp(1, 3)
}

/// Every known key `key` may have meant, each with its edit distance from `key`.
fn candidates(key: &str) -> impl Iterator<Item = (String, usize)> + '_ {
    let single = KNOWN_KEYS
        .iter()
        .map(move |known| (known.to_string(), edit_distance(key, known)));
    let mut family_prefixes = vec![COMPOSE_FILE_PREFIX.to_owned()];
    family_prefixes.extend(REGISTRY_PREFIXES.iter().map(|r| repository_map_prefix(r)));
    let family = family_prefixes
        .into_iter()
        .flat_map(move |prefix| family_candidates(key, &prefix));
    single.chain(family).chain(user_candidates(key))
}

/// For `COMPOSE_FILE_PAHT_SHOP`: split after each `_`, compare the head with the family's
/// prefix and keep the tail as the name (`COMPOSE_FILE_PATH_SHOP`).
fn family_candidates(key: &str, prefix: &str) -> Vec<(String, usize)> {
    key.char_indices()
        .filter(|(_, c)| *c == '_')
        .map(|(index, _)| index + 1)
        .filter(|split| *split < key.len())
        .map(|split| {
            let (head, name) = key.split_at(split);
            (format!("{prefix}{name}"), edit_distance(head, prefix))
        })
        .collect()
}

/// For `USER2_EMIAL`: the same number with each known ending.
fn user_candidates(key: &str) -> Vec<(String, usize)> {
    let digits: String = key.chars().filter(char::is_ascii_digit).collect();
    let number = if digits.is_empty() { "1" } else { &digits };
    ["EMAIL", "PASSWORD"]
        .iter()
        .map(|ending| {
            let candidate = format!("USER{number}_{ending}");
            let distance = edit_distance(key, &candidate);
            (candidate, distance)
        })
        .collect()
}

/// Edit distance over bytes, with a swap of two neighbours counting as one edit (the
/// commonest typo: `EMIAL`). Keys are ASCII: the env-file parser only accepts letters,
/// digits and `_`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut before_previous: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 0..a.len() {
        let mut current = vec![i + 1; b.len() + 1];
        for j in 0..b.len() {
            let substitution = previous[j] + usize::from(a[i] != b[j]);
            let mut best = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                best = best.min(before_previous[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        before_previous = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(key: &str) -> Option<String> {
        match judge(key) {
            KeyVerdict::Misspelled { suggestion } => Some(suggestion),
            _ => None,
        }
    }

    #[test]
    fn known_keys_and_families_pass() {
        for key in [
            "CHECK_INTERVAL",
            "COMPOSE_FILE_PATH_SHOP",
            "ECR_REPOSITORY_MAP_SHOP",
            "DO_REPOSITORY_MAP_X",
            "USER12_PASSWORD",
            "TRIVY_SERVER_URL",
            "AWS_ACCOUNT_ID",
            "NOTIFY_OPS_URL",
            "NOTIFY_OPS_SECRET",
            "SESSION_TTL",
            "WEBHOOK_SECRET",
        ] {
            assert_eq!(judge(key), KeyVerdict::Known, "{key}");
        }
        assert_ne!(judge("NOTIFY__URL"), KeyVerdict::Known);
        assert_ne!(judge("COMPOSE_FILE_PATH_"), KeyVerdict::Known);
        assert_ne!(judge("USER_EMAIL"), KeyVerdict::Known);
    }

    #[test]
    fn typos_suggest_the_nearest_key() {
        assert_eq!(
            suggestion("CHEK_INTERVAL").as_deref(),
            Some("CHECK_INTERVAL")
        );
        assert_eq!(
            suggestion("check_interval").as_deref(),
            Some("CHECK_INTERVAL")
        );
        assert_eq!(
            suggestion("HARBOR_PASWORD").as_deref(),
            Some("HARBOR_PASSWORD")
        );
        assert_eq!(
            suggestion("COMPOSE_FILE_PAHT_SHOP").as_deref(),
            Some("COMPOSE_FILE_PATH_SHOP")
        );
        assert_eq!(
            suggestion("ECR_REPOSITRY_MAP_SHOP").as_deref(),
            Some("ECR_REPOSITORY_MAP_SHOP")
        );
        assert_eq!(suggestion("USER3_EMIAL").as_deref(), Some("USER3_EMAIL"));
    }

    #[test]
    fn unrelated_keys_are_unknown_not_misspelled() {
        assert_eq!(judge("MY_OWN_KEY"), KeyVerdict::Unknown);
        assert_eq!(judge("POSTGRES_DB"), KeyVerdict::Unknown);
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", "ABC"), 3);
        assert_eq!(edit_distance("KITTEN", "SITTING"), 3);
        assert_eq!(edit_distance("SAME", "SAME"), 0);
        assert_eq!(edit_distance("EMIAL", "EMAIL"), 1);
    }
}
