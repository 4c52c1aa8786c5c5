//! `phm scheduler` and `phm executor`: a Ballista cluster whose processes know OpenPHM's
//! functions (`phm_engine::udaf`). Plans name those functions; a stock Ballista scheduler
//! could not decode them and a stock executor could not run them.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use ballista::prelude::SessionConfigExt;
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::prelude::SessionConfig;

use crate::cli::{ExecutorArgs, SchedulerArgs};

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
    super::runtime()?.block_on(async {
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
    super::runtime()?.block_on(async { start_executor_process(Arc::new(config)).await.context("The executor stopped") })
}
