//! `livenotify serve`: opens the store, makes sure an administrator can sign in, and runs the
//! API, the ingest hooks, the operator endpoints (`/metrics`, `/healthz`, `/readyz`), the web
//! console and the delivery worker until a shutdown signal.

mod body_deadline;
mod connections;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::Context;
use tokio::sync::watch;

use crate::api::{self, ApiState};
use crate::auth::Authenticator;
use crate::clock::Clock;
use crate::config::ServeConfig;
use crate::ingest::Ingest;
use crate::ops::{Metrics, OpsState};
use crate::storage::Store;

pub use connections::ConnectionLimits;

/// The file, in the data directory, holding the credentials created on first start.
pub const ADMIN_CREDENTIALS_FILE: &str = "admin-credentials.json";

/// Runs the service until SIGINT or SIGTERM.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    serve(listener, config, shutdown_signal()).await
}

/// Serves the API and the ingest hooks on `listener`, and runs the delivery worker, until
/// `shutdown` completes; then stops taking requests, lets requests in progress finish, and
/// lets in-flight deliveries finish within the configured bound.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: ServeConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (store, shared_nonces) =
        crate::storage::open::open_with_shared_nonces(&config.store_location())
            .await
            .context("cannot open the store")?;
    bootstrap_admin(store.as_ref(), &config.data_dir).await?;

    let clock = Clock::system();
    let metrics = Arc::new(Metrics::new()?);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let retention = tokio::spawn(crate::records::retention::run(
        Arc::clone(&store),
        clock.clone(),
        config.retention_days,
        shutdown_rx.clone(),
    ));
    let (hooks, worker) = start_pipeline(&store, &clock, &config, &shutdown_rx, &metrics)?;

    let ops = crate::ops::router(OpsState {
        store: Arc::clone(&store),
        metrics: Arc::clone(&metrics),
        clock: clock.clone(),
    });
    let mut authenticator =
        Authenticator::with_limits(Arc::clone(&store), clock.clone(), config.limits.clone());
    if let Some(shared) = shared_nonces {
        tokio::spawn(sweep_nonces(
            Arc::clone(&shared),
            clock.clone(),
            shutdown_rx.clone(),
        ));
        authenticator = authenticator.with_shared_nonces(shared);
    }
    let state = ApiState {
        auth: Arc::new(authenticator),
        store,
        clock,
        metrics,
    };
    let app = api::router(state)
        .merge(hooks)
        .merge(ops)
        .merge(crate::console::router());
    tracing::info!(
        addr = %listener.local_addr()?,
        data_dir = %config.data_dir.display(),
        "livenotify listening"
    );

    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutdown signal received");
        let _ = shutdown_tx.send(true);
    };
    connections::serve_connections(listener, app, &config.connections, shutdown).await;
    let _ = retention.await;
    let _ = worker.await;
    tracing::info!("livenotify stopped");
    Ok(())
}

/// The hook routes, and the delivery worker (with the pruning of delivered events) running.
fn start_pipeline(
    store: &Arc<dyn Store>,
    clock: &Clock,
    config: &ServeConfig,
    shutdown: &watch::Receiver<bool>,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<(axum::Router, tokio::task::JoinHandle<()>)> {
    let wake = Arc::new(tokio::sync::Notify::new());
    let (worker, handoff) = crate::delivery::spawn(
        Arc::clone(store),
        config.delivery.clone(),
        clock.clone(),
        lease_owner(config),
        Arc::clone(&wake),
        shutdown.clone(),
        Arc::clone(metrics),
    )?;
    let ingest = Ingest::new(
        Arc::clone(store),
        clock.clone(),
        config.hooks.clone(),
        wake,
        handoff,
        Arc::clone(metrics),
    );
    Ok((crate::ingest::router(Arc::new(ingest)), worker))
}

/// Deletes expired shared nonces every five minutes until shutdown.
async fn sweep_nonces(
    nonces: Arc<dyn crate::storage::nonce::NonceStore>,
    clock: Clock,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(300)) => {}
            _ = shutdown.changed() => return,
        }
        if let Err(error) = nonces.forget_expired_nonces(clock.now()).await {
            tracing::warn!(error = %crate::api::error_chain(&error), "cannot sweep expired nonces");
        }
    }
}

/// Whose name the worker's leases carry. On the embedded store only this process uses the
/// queue, so leases carry the node name and a restart takes back at once what a crash left
/// leased. On a shared database several processes may share a node name, so each run gets a
/// name of its own and a dead run's leases come back when they expire.
fn lease_owner(config: &ServeConfig) -> String {
    match config.database {
        None => config.hooks.node.clone(),
        Some(_) => format!("{}#{}", config.hooks.node, uuid::Uuid::new_v4().simple()),
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// On an empty store, creates an admin account and key and writes them, readable only by this
/// user, to the data directory. The secret never goes to the log.
pub async fn bootstrap_admin(
    store: &dyn Store,
    data_dir: &Path,
) -> anyhow::Result<Option<PathBuf>> {
    if store.count_accounts().await? > 0 {
        return Ok(None);
    }
    let account = store.create_account().await?;
    let key = store.create_access_key(&account).await?;
    let path = data_dir.join(ADMIN_CREDENTIALS_FILE);
    let body = serde_json::json!({
        "AccountId": account.0,
        "AccessKeyId": key.id,
        "AccessKeySecret": key.secret,
    });
    write_private(&path, &serde_json::to_vec_pretty(&body)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tracing::info!(
        path = %path.display(),
        account = %account,
        access_key_id = %key.id,
        "created the first account and access key"
    );
    Ok(Some(path))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.write_all(b"\n")?;
    file.sync_all()
}
