//! One webhook-driven check at a time: repositories pushed while a check runs are kept and
//! checked together right after it, so a burst of events (a multi-platform push sends one
//! per manifest) makes one or two checks, not one each racing for the same service.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crate::engine::{Engine, error_chain};

#[derive(Default)]
pub struct Coalescer {
    state: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    repositories: BTreeSet<String>,
    running: bool,
}

impl Coalescer {
    /// Check `repositories` as soon as the check under way (if any) has finished.
    pub fn check(self: &Arc<Self>, engine: Arc<Engine>, repositories: Vec<String>) {
        {
            let mut pending = self.lock();
            pending.repositories.extend(repositories);
            if pending.running {
                return;
            }
            pending.running = true;
        }
        let coalescer = self.clone();
        tokio::spawn(async move {
            loop {
                let batch: Vec<String> = {
                    let mut pending = coalescer.lock();
                    if pending.repositories.is_empty() {
                        pending.running = false;
                        return;
                    }
                    std::mem::take(&mut pending.repositories)
                        .into_iter()
                        .collect()
                };
                match engine.check_repositories(&batch).await {
                    Ok(report) => tracing::info!(
                        repositories = ?batch,
                        services = report.services.len(),
                        "webhook check finished"
                    ),
                    Err(error) => tracing::warn!(
                        repositories = ?batch,
                        error = %error_chain(&error),
                        "webhook check failed"
                    ),
                }
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic inside the lock cannot leave the set half-written; keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
