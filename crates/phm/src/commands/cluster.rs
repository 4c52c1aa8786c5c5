//! `phm scheduler` and `phm executor`: a Ballista cluster whose processes know OpenPHM's
//! functions (`phm_engine::udaf`). Plans name those functions; a stock Ballista scheduler
//! could not decode them and a stock executor could not run them.
//!
//! Ballista is behind phm's `cluster` feature (`cargo build --release -p phm --features
//! cluster`). A build without it keeps the commands and `phm run --ballista`, and each says
//! that this build has no cluster support and how to build one.

#[cfg(feature = "cluster")]
pub use with_ballista::{executor, remote_context, scheduler};
#[cfg(not(feature = "cluster"))]
pub use without_ballista::{executor, remote_context, scheduler};

#[cfg(not(feature = "cluster"))]
mod without_ballista {
    use datafusion::prelude::SessionContext;

    use crate::cli::{ExecutorArgs, SchedulerArgs};

    /// What a build without the `cluster` feature says when asked for a cluster.
    const NO_CLUSTER: &str = "This build of phm has no cluster support (Ballista): build phm with \
        `cargo build --release -p phm --features cluster` to run `phm scheduler`, `phm executor` or `phm run --ballista`";

    pub fn scheduler(_: &SchedulerArgs) -> anyhow::Result<()> {
        anyhow::bail!(NO_CLUSTER)
    }

    pub fn executor(_: &ExecutorArgs) -> anyhow::Result<()> {
        anyhow::bail!(NO_CLUSTER)
    }

    pub async fn remote_context(_url: &str) -> anyhow::Result<SessionContext> {
        anyhow::bail!(NO_CLUSTER)
    }
}

#[cfg(feature = "cluster")]
mod with_ballista {
    use std::net::SocketAddr;
    use std::sync::Arc;

    use anyhow::Context as _;
    use ballista::prelude::{SessionConfigExt, SessionContextExt};
    use ballista_core::registry::BallistaFunctionRegistry;
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    use ballista_scheduler::scheduler_process::start_server;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use crate::cli::{ExecutorArgs, SchedulerArgs};

    /// A session on the Ballista scheduler at `url` (`df://host:50050`) with OpenPHM's functions.
    pub async fn remote_context(url: &str) -> anyhow::Result<SessionContext> {
        let config = phm_engine::configure(SessionConfig::new_with_ballista());
        let state = phm_engine::session_state(config);
        SessionContext::remote_with_state(url, state)
            .await
            .with_context(|| format!("Failed to connect to the Ballista scheduler at {url}"))
    }

    pub fn scheduler(args: &SchedulerArgs) -> anyhow::Result<()> {
        let address: SocketAddr = format!("{}:{}", args.bind, args.port)
            .parse()
            .with_context(|| format!("`{}:{}` is not an address to listen on", args.bind, args.port))?;
        let config = SchedulerConfig {
            bind_host: args.bind.clone(),
            bind_port: args.port,
            external_host: args.external_host.clone(),
            override_session_builder: Some(Arc::new(|config: SessionConfig| {
                Ok(phm_engine::session_state(phm_engine::configure(config)))
            })),
            ..SchedulerConfig::default()
        };
        super::super::runtime()?.block_on(async {
            let cluster =
                BallistaCluster::new_from_config(&config).await.context("Failed to set up the scheduler's state")?;
            eprintln!("Ballista scheduler with OpenPHM's functions listening on {address}");
            start_server(cluster, address, Arc::new(config)).await.context("The scheduler stopped")
        })
    }

    pub fn executor(args: &ExecutorArgs) -> anyhow::Result<()> {
        let (host, port) = args
            .scheduler
            .rsplit_once(':')
            .with_context(|| format!("--scheduler `{}`: expected HOST:PORT", args.scheduler))?;
        let port: u16 =
            port.parse().with_context(|| format!("--scheduler `{}`: `{port}` is not a port number", args.scheduler))?;
        let functions = phm_engine::session_state(phm_engine::configure(SessionConfig::new_with_ballista()));
        let mut config = ExecutorProcessConfig {
            scheduler_host: host.to_owned(),
            scheduler_port: port,
            bind_host: args.bind.clone(),
            port: args.port,
            grpc_port: args.grpc_port,
            external_host: args.external_host.clone(),
            work_dir: args.work_dir.clone(),
            override_function_registry: Some(Arc::new(BallistaFunctionRegistry::from(&functions))),
            override_config_producer: Some(Arc::new(|| phm_engine::configure(SessionConfig::new_with_ballista()))),
            ..ExecutorProcessConfig::default()
        };
        if let Some(n) = args.concurrent_tasks {
            config.vcores = n;
        }
        super::super::runtime()?
            .block_on(async { start_executor_process(Arc::new(config)).await.context("The executor stopped") })
    }
}
