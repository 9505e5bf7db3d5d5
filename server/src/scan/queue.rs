//! One scan at a time: a tokio task takes scans from a channel and runs them in order.
//!
//! Trivy is heavy (it unpacks every layer, and may download its database); two at once on a
//! small host would slow the containers it serves, and two Trivy processes sharing a cache
//! folder wait on each other's lock anyway. Submitting never waits for a scan, so the
//! engine's loop hands a scan over and carries on; whoever needs the outcome awaits it.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{Availability, ScanError, ScanOutcome, ScanTarget, Scanner};

/// Scans waiting beyond this are refused with [`ScanError::Enqueue`] rather than held
/// without bound.
pub const DEFAULT_CAPACITY: usize = 64;

struct Job {
    target: ScanTarget,
    reply: oneshot::Sender<Result<ScanOutcome, ScanError>>,
}

/// The handle to the queue; cheap to clone. The worker stops when every handle is dropped.
#[derive(Clone)]
pub struct ScanQueue {
    sender: mpsc::Sender<Job>,
    scanner: Arc<dyn Scanner>,
    capacity: usize,
}

/// A submitted scan; await [`PendingScan::outcome`] for its result, or drop it to let the
/// scan run without anyone waiting.
pub struct PendingScan {
    receiver: oneshot::Receiver<Result<ScanOutcome, ScanError>>,
}

impl PendingScan {
    pub async fn outcome(self) -> Result<ScanOutcome, ScanError> {
        self.receiver.await.map_err(|_| ScanError::AwaitQueue)?
    }
}

impl ScanQueue {
    /// Start the worker task on the current tokio runtime.
    pub fn start(scanner: Arc<dyn Scanner>, capacity: usize) -> (ScanQueue, JoinHandle<()>) {
        let capacity = capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        let worker = tokio::spawn(run_worker(scanner.clone(), receiver));
        let queue = ScanQueue {
            sender,
            scanner,
            capacity,
        };
        (queue, worker)
    }

    /// Put a scan in the queue without waiting for it to run.
    pub fn submit(&self, target: ScanTarget) -> Result<PendingScan, ScanError> {
        let (reply, receiver) = oneshot::channel();
        self.sender
            .try_send(Job { target, reply })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => ScanError::Enqueue {
                    capacity: self.capacity,
                },
                mpsc::error::TrySendError::Closed(_) => ScanError::AwaitQueue,
            })?;
        Ok(PendingScan { receiver })
    }
}

/// The queue is itself a scanner, so the gate and the engine can use it in place of the
/// scanner it wraps and still get one scan at a time.
#[async_trait]
impl Scanner for ScanQueue {
    async fn scan(&self, target: &ScanTarget) -> Result<ScanOutcome, ScanError> {
        self.submit(target.clone())?.outcome().await
    }

    fn availability(&self) -> Availability {
        self.scanner.availability()
    }
}

async fn run_worker(scanner: Arc<dyn Scanner>, mut receiver: mpsc::Receiver<Job>) {
    while let Some(job) = receiver.recv().await {
        if job.reply.is_closed() {
            continue; // nobody is waiting and nothing is recorded: skip the work
        }
        let outcome = scanner.scan(&job.target).await;
        let _nobody_waiting = job.reply.send(outcome);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Records how many scans run at once; each takes a little while and then fails.
    #[derive(Default)]
    struct SlowScanner {
        running: AtomicUsize,
        most_at_once: AtomicUsize,
        finished: AtomicUsize,
    }

    #[async_trait]
    impl Scanner for SlowScanner {
        async fn scan(&self, target: &ScanTarget) -> Result<ScanOutcome, ScanError> {
            let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_at_once.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(30)).await;
            self.running.fetch_sub(1, Ordering::SeqCst);
            self.finished.fetch_add(1, Ordering::SeqCst);
            Err(ScanError::Unavailable {
                reason: format!("scanned {}", target.display_name()),
            })
        }

        fn availability(&self) -> Availability {
            Availability::Unavailable {
                reason: "slow test scanner".into(),
            }
        }
    }

    #[tokio::test]
    async fn scans_run_one_at_a_time_and_each_caller_gets_its_own_outcome() {
        let scanner = Arc::new(SlowScanner::default());
        let (queue, _worker) = ScanQueue::start(scanner.clone(), 8);
        let pending: Vec<PendingScan> = (0..4)
            .map(|n| queue.submit(ScanTarget::image(format!("app:{n}"))).unwrap())
            .collect();
        for (n, scan) in pending.into_iter().enumerate() {
            let error = scan.outcome().await.unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("scanning is unavailable: scanned app:{n}")
            );
        }
        assert_eq!(scanner.most_at_once.load(Ordering::SeqCst), 1);
        assert_eq!(queue.availability(), scanner.availability());
    }

    #[tokio::test]
    async fn submitting_returns_at_once_and_a_full_queue_refuses() {
        let scanner = Arc::new(SlowScanner::default());
        let (queue, _worker) = ScanQueue::start(scanner.clone(), 1);
        let started = std::time::Instant::now();
        let first = queue.submit(ScanTarget::image("app:1")).unwrap();
        tokio::task::yield_now().await; // the worker takes the first job
        let second = queue.submit(ScanTarget::image("app:2")).unwrap();
        let third = queue.submit(ScanTarget::image("app:3"));
        assert!(
            started.elapsed() < Duration::from_millis(30),
            "submit waited for a scan"
        );
        assert!(matches!(third, Err(ScanError::Enqueue { capacity: 1 })));
        // The queue keeps working after a caller stopped waiting.
        drop(first);
        let second = second.outcome().await;
        assert!(second.is_err_and(|error| error.to_string().contains("app:2")));
        let later = queue.scan(&ScanTarget::image("app:4")).await;
        assert!(later.is_err_and(|error| error.to_string().contains("app:4")));
    }
}
