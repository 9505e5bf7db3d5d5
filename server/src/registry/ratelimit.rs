//! The rate-limit governor: per registry, a concurrency bound, an optional request budget,
//! the last-known quota from `ratelimit-limit` / `ratelimit-remaining`, and the moment a 429
//! said the registry may be asked again. A limited registry never slows the others: each
//! registry has its own [`Gate`].

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use http::HeaderMap;
use rand::Rng;
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::stats::{RegistryStats, StatsRecorder};

/// How hard Berth may press one registry.
#[derive(Debug, Clone)]
pub struct GovernorSettings {
    /// Requests in flight at once per registry (`REGISTRY_CONCURRENCY`, default 4).
    pub concurrency: usize,
    /// Requests per rolling minute per registry (`REGISTRY_REQUESTS_PER_MINUTE`; none = no budget).
    pub requests_per_minute: Option<u32>,
    /// A 429 whose wait is at most this long is waited out; a longer one fails fast with
    /// "limited until T" (`REGISTRY_MAX_RETRY_WAIT`, default 60 s).
    pub max_wait: Duration,
    /// How many 429s in a row one request retries before giving up.
    pub max_retries: u32,
}

impl Default for GovernorSettings {
    fn default() -> Self {
        GovernorSettings {
            concurrency: 4,
            requests_per_minute: None,
            max_wait: Duration::from_secs(60),
            max_retries: 3,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RateLimitError {
    #[error("registry rate limited until {until}")]
    Admit { until: DateTime<Utc> },
}

/// The last quota a registry reported (`ratelimit-limit: 100;w=21600`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// The window the quota counts over, in seconds (`w=`).
    pub window_seconds: Option<u64>,
    pub observed_at: DateTime<Utc>,
}

/// One registry's state, for the dashboard and the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryStatus {
    pub registry: String,
    pub quota: Option<Quota>,
    /// Set while a 429 holds; past moments are cleared.
    pub limited_until: Option<DateTime<Utc>>,
    /// Auth state, last error and request counts.
    pub stats: RegistryStats,
}

/// Every registry's gate.
#[derive(Debug, Default)]
pub struct Governor {
    settings: GovernorSettings,
    gates: Mutex<BTreeMap<String, Arc<Gate>>>,
}

impl Governor {
    pub fn new(settings: GovernorSettings) -> Governor {
        Governor {
            settings,
            gates: Mutex::default(),
        }
    }

    pub fn settings(&self) -> &GovernorSettings {
        &self.settings
    }

    /// The gate for `registry`, made on first use.
    pub fn gate(&self, registry: &str) -> Arc<Gate> {
        let mut gates = self
            .gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gates
            .entry(registry.to_owned())
            .or_insert_with(|| Arc::new(Gate::new(registry, self.settings.clone())))
            .clone()
    }

    /// Each registry's last-known quota and limit, sorted by registry.
    pub fn status(&self) -> Vec<RegistryStatus> {
        let gates = self
            .gates
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        gates.values().map(|gate| gate.status()).collect()
    }
}

/// One registry's admission control.
#[derive(Debug)]
pub struct Gate {
    registry: String,
    settings: GovernorSettings,
    in_flight: Arc<Semaphore>,
    state: Mutex<GateState>,
    stats: Arc<StatsRecorder>,
}

#[derive(Debug, Default)]
struct GateState {
    limited_until: Option<DateTime<Utc>>,
    quota: Option<Quota>,
    /// Start times of the requests in the last minute, for the budget.
    recent: VecDeque<Instant>,
}

impl Gate {
    fn new(registry: &str, settings: GovernorSettings) -> Gate {
        Gate {
            registry: registry.to_owned(),
            in_flight: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            settings,
            state: Mutex::default(),
            stats: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Wait for a slot: out a short limit, the budget, and the concurrency bound. A limit
    /// longer than `max_wait` fails at once, so a locked-out registry costs nothing.
    pub async fn admit(&self) -> Result<OwnedSemaphorePermit, RateLimitError> {
        loop {
            let wait = {
                let mut state = self.lock();
                let now = Utc::now();
                match state.limited_until {
                    Some(until) if until > now => {
                        let wait = (until - now).to_std().unwrap_or_default();
                        if wait > self.settings.max_wait {
                            return Err(RateLimitError::Admit { until });
                        }
                        Some(wait)
                    }
                    Some(_) => {
                        state.limited_until = None;
                        None
                    }
                    None => None,
                }
                .or_else(|| self.budget_wait(&mut state))
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => break,
            }
        }
        let permit = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_closed| RateLimitError::Admit { until: Utc::now() })?;
        Ok(permit)
    }

    /// How long until the budget allows another request; records this one if it may go.
    fn budget_wait(&self, state: &mut GateState) -> Option<Duration> {
        let per_minute = self.settings.requests_per_minute? as usize;
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        while state
            .recent
            .front()
            .is_some_and(|start| now.duration_since(*start) >= minute)
        {
            state.recent.pop_front();
        }
        if state.recent.len() >= per_minute.max(1) {
            let oldest = *state.recent.front()?;
            return Some(minute.saturating_sub(now.duration_since(oldest)));
        }
        state.recent.push_back(now);
        None
    }

    /// Remember the quota headers of an answer, if it had any.
    pub fn observe(&self, headers: &HeaderMap) {
        let limit = header_number(headers, "ratelimit-limit");
        let remaining = header_number(headers, "ratelimit-remaining");
        if limit.is_none() && remaining.is_none() {
            return;
        }
        let window_seconds = limit
            .and_then(|(_, window)| window)
            .or(remaining.and_then(|(_, window)| window));
        self.lock().quota = Some(Quota {
            limit: limit.map(|(value, _)| value),
            remaining: remaining.map(|(value, _)| value),
            window_seconds,
            observed_at: Utc::now(),
        });
    }

    /// A 429: mark the registry limited until `Retry-After`, or a jittered exponential
    /// backoff when the registry gave none. Returns that moment.
    pub fn mark_limited(&self, headers: &HeaderMap, attempt: u32) -> DateTime<Utc> {
        let now = Utc::now();
        let until = retry_after(headers, now).unwrap_or_else(|| now + backoff(attempt));
        let mut state = self.lock();
        state.limited_until = Some(state.limited_until.map_or(until, |known| known.max(until)));
        tracing::warn!(registry = %self.registry, %until, "registry answered 429: limited");
        until
    }

    pub fn status(&self) -> RegistryStatus {
        let state = self.lock();
        RegistryStatus {
            registry: self.registry.clone(),
            quota: state.quota.clone(),
            limited_until: state.limited_until.filter(|until| *until > Utc::now()),
            stats: self.stats.snapshot(),
        }
    }

    /// What was asked of this registry and what came back.
    pub fn stats(&self) -> &Arc<StatsRecorder> {
        &self.stats
    }

    pub fn settings(&self) -> &GovernorSettings {
        &self.settings
    }
}

/// `100;w=21600` → (100, Some(21600)).
fn header_number(headers: &HeaderMap, name: &str) -> Option<(u64, Option<u64>)> {
    let text = headers.get(name)?.to_str().ok()?;
    let mut parts = text.split(';');
    let value = parts.next()?.trim().parse().ok()?;
    let window = parts
        .filter_map(|part| part.trim().strip_prefix("w="))
        .find_map(|window| window.trim().parse().ok());
    Some((value, window))
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u32>() {
        return Some(now + chrono::Duration::seconds(i64::from(seconds)));
    }
    DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|date| date.with_timezone(&Utc))
}

/// 1 s, 2 s, 4 s … capped at a minute, each ±50 %, so many agents do not retry in step.
fn backoff(attempt: u32) -> chrono::Duration {
    let base_ms = 1000u64.saturating_mul(1 << attempt.min(6)).min(60_000);
    let jittered = rand::thread_rng().gen_range(base_ms / 2..=base_ms + base_ms / 2);
    chrono::Duration::milliseconds(i64::try_from(jittered).unwrap_or(60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (http::HeaderName::from_static(name), value.parse().unwrap()))
            .collect()
    }

    #[test]
    fn quota_headers_are_read_with_their_window() {
        let gate = Governor::default().gate("docker.io");
        gate.observe(&headers(&[
            ("ratelimit-limit", "100;w=21600"),
            ("ratelimit-remaining", "20;w=21600"),
        ]));
        let quota = gate.status().quota.unwrap();
        assert_eq!(
            (quota.limit, quota.remaining, quota.window_seconds),
            (Some(100), Some(20), Some(21600))
        );
        gate.observe(&headers(&[("content-type", "text/plain")]));
        assert!(
            gate.status().quota.is_some(),
            "an answer without quota headers keeps the last quota"
        );
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = Utc::now();
        let until = retry_after(&headers(&[("retry-after", "7")]), now).unwrap();
        assert_eq!((until - now).num_seconds(), 7);
        let dated = retry_after(
            &headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
            now,
        )
        .unwrap();
        assert_eq!(dated.to_rfc3339(), "2015-10-21T07:28:00+00:00");
        assert!(retry_after(&headers(&[("retry-after", "soon")]), now).is_none());
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..10 {
            let delay = backoff(attempt).num_milliseconds();
            let base = (1000i64 << attempt.min(6)).min(60_000);
            assert!(
                delay >= base / 2 && delay <= base + base / 2,
                "attempt {attempt}: {delay}"
            );
        }
    }

    #[tokio::test]
    async fn a_long_limit_fails_fast_and_only_for_that_registry() {
        let governor = Governor::new(GovernorSettings {
            max_wait: Duration::from_secs(5),
            ..Default::default()
        });
        let limited = governor.gate("limited.example");
        let until = limited.mark_limited(&headers(&[("retry-after", "3600")]), 0);
        let started = Instant::now();
        assert!(
            matches!(limited.admit().await, Err(RateLimitError::Admit { until: reported }) if reported == until)
        );
        assert!(governor.gate("other.example").admit().await.is_ok());
        assert!(started.elapsed() < Duration::from_secs(1));
        let status = governor.status();
        assert_eq!(status.len(), 2);
        assert_eq!(status[0].limited_until, Some(until));
        assert_eq!(status[1].limited_until, None);
    }

    #[tokio::test]
    async fn the_budget_spaces_requests() {
        let governor = Governor::new(GovernorSettings {
            requests_per_minute: Some(2),
            ..Default::default()
        });
        let gate = governor.gate("budget.example");
        drop(gate.admit().await.unwrap());
        drop(gate.admit().await.unwrap());
        let third = tokio::time::timeout(Duration::from_millis(300), gate.admit()).await;
        assert!(third.is_err(), "the third request in a minute waits");
    }
}
