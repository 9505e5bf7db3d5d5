//! `berth serve`: open the store, start the scheduler and the web server, and stop both
//! gracefully on SIGTERM or Ctrl-C.

use std::sync::Arc;

use anyhow::{Context, bail};
use tokio_util::sync::CancellationToken;

use std::path::PathBuf;

use crate::backend::EngineBackend;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::containers::Containers;
use crate::discovery::docker::EngineDocker;
use crate::events::EventBus;
use crate::registry::Secret;
use crate::store::Store;
use crate::web::{self, AppState};
use crate::writer_lock::{Attempt, Holder, WriterLock};

/// At shutdown, how long a running rollout may take beyond its verification's own limits
/// (a pull, a container that is slow to stop).
const ROLLOUT_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn run(config: Config, env_file: Option<PathBuf>) -> anyhow::Result<()> {
    // One writer per database: before the store is migrated or anything recovered.
    let mut lock = take_writer_lock(&config)?;
    let store = Store::open(&config.server.database_url)
        .await
        .context("start-up stopped")?;
    let events = EventBus::default();
    let engine = Arc::new(super::engine(&config, env_file, store.clone(), events.clone()).await?);
    super::recover(&engine).await?;
    let shutdown = CancellationToken::new();
    // The service page's Start, Stop, Prune and logs: a connection of their own.
    let docker = Arc::new(
        EngineDocker::connect()
            .await
            .context("connecting to the Docker engine")?,
    );
    let containers = Containers::new(docker.clone(), docker);

    let listener = web::bind(config.server.listen_addr).await?;
    let addr = listener.local_addr().context("reading the bound address")?;
    // Local `berth` commands act through this server, with a secret only the lock's file
    // (readable by this user alone) holds.
    let local_secret = Secret::new(random_secret());
    if let Some(lock) = &mut lock {
        let mut holder = Holder::new("serve");
        holder.listen_addr = Some(addr.to_string());
        holder.secret = Some(local_secret.expose().to_owned());
        lock.record(&holder)?;
    }
    let state = AppState {
        leptos_options: web::leptos_options(&config.server.site_root, addr),
        backend: Arc::new(EngineBackend::new(engine.clone()).with_containers(containers)),
        events,
        engine: engine.clone(),
        store: store.clone(),
        config: Arc::new(config.clone()),
        auth: crate::auth::Auth::start(&config, store.clone(), Arc::new(SystemClock))
            .await
            .context("loading the dashboard users")?,
        api: crate::api::ApiState::default().with_local_secret(local_secret),
        metrics: crate::metrics::Metrics::from_config(&config)?,
        shutdown: shutdown.clone(),
    };
    state.metrics.start(&state.events, shutdown.clone());
    if !config.server.site_root.join("pkg").is_dir() {
        tracing::warn!(
            site_root = %config.server.site_root.display(),
            "no pkg/ folder under the site root: the dashboard will render but not hydrate; \
             build it with scripts/build.sh or set LEPTOS_SITE_ROOT"
        );
    }
    tracing::info!(%addr, env_file = %config.env_file.display(), "Berth is serving the dashboard on http://{addr}/");

    // Notifications: one more subscriber on the event bus, in tasks of its own.
    crate::notify::start(
        &config,
        &state.events,
        store.clone(),
        Arc::new(crate::clock::SystemClock),
        shutdown.clone(),
    )
    .context("reading the notification channels (NOTIFY_*)")?;
    let scheduler = tokio::spawn(
        engine
            .clone()
            .run_scheduler(config.engine.check_interval, shutdown.clone()),
    );
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let served = web::serve(listener, state).await;
    shutdown.cancel();
    scheduler.await.context("the scheduler task panicked")?;
    // A deploy or rollback under way is never cut off between stopping the old container
    // and starting the new one: give it the time its verification may take.
    let limit = config.engine.health_timeout + config.engine.health_stable + ROLLOUT_GRACE;
    engine.finish_rollouts(limit).await;
    store.close().await;
    drop(lock);
    tracing::info!("Berth stopped");
    Ok(served?)
}

/// The database's writer lock, or why this server may not start (`None`: an in-memory
/// database, which no other process can open).
fn take_writer_lock(config: &Config) -> anyhow::Result<Option<WriterLock>> {
    let Some(path) = WriterLock::path_for(&config.server.database_url) else {
        return Ok(None);
    };
    match WriterLock::try_acquire(&path, &Holder::new("serve"))? {
        Attempt::Acquired(lock) => Ok(Some(lock)),
        Attempt::Held(holder) => {
            let who = holder.map_or_else(|| "another berth process".to_owned(), |h| h.describe());
            bail!(
                "{who} already uses {}; one Berth writes to a database at a time (its lock: {})",
                config.server.database_url,
                path.display()
            )
        }
    }
}

fn random_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
    shutdown.cancel();
}
