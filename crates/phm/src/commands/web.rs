//! `phm serve` and `phm demo`: the web app, and the one command from nothing to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use phm_store::Store;

use crate::cli::{IngestArgs, ProfilesArgs, QualityArgs, SynthArgs};

/// Arguments of `phm serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The store. When given, its profiles are computed first if they are missing or older
    /// than its latest snapshot.
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// The profiles folder (`phm profiles --policy public --policy analyst --out DIR`).
    #[arg(long, default_value = "data/profiles")]
    pub profiles: PathBuf,
    /// The outcome framework (used when profiles are computed).
    #[arg(long, default_value = "definitions/framework.toml")]
    pub framework: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The accounts folder: `users.json` (see `phm users`) and the audit trail `audit.jsonl`.
    #[arg(long, default_value = "data/accounts")]
    pub accounts: PathBuf,
    /// A GeoJSON FeatureCollection of neighbourhood boundaries (property `code`), shown instead
    /// of the hex map.
    #[arg(long)]
    pub boundaries: Option<PathBuf>,
    /// Session cookies without `Secure` and no `Strict-Transport-Security` header, for plain
    /// HTTP on loopback. Without it the app expects to be reached over HTTPS (itself or behind
    /// a proxy) and tells browsers to use HTTPS only.
    #[arg(long)]
    pub insecure_cookies: bool,
}

/// Arguments of `phm demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// People in the synthetic population (BLMK has about 1.1 million).
    #[arg(long, default_value_t = 1_100_000)]
    pub population: u64,
    /// Port to serve on (127.0.0.1).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Folder for everything the demo makes: `synthetic/`, `store/`, `profiles/`, `accounts/`.
    #[arg(long, default_value = "data")]
    pub data: PathBuf,
    /// Seed of the synthetic population.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Prepare everything, then stop instead of serving (for scripts and benchmarks).
    #[arg(long)]
    pub no_serve: bool,
}

/// The snapshot a profiles folder was computed from, if it has one.
fn profiles_snapshot(profiles: &Path) -> Option<u64> {
    let provenance =
        ["public/provenance.json", "provenance.json"].iter().map(|p| profiles.join(p)).find(|p| p.exists())?;
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(provenance).ok()?).ok()?;
    v.get("snapshot")?.as_u64()
}

/// Computes the profiles (public and analyst releases, with trends) and the data-quality
/// report of `store`'s latest snapshot unless `profiles` already holds them.
fn prepare(store: &Path, profiles: &Path, framework: &Path, step: &str) -> anyhow::Result<()> {
    let latest = Store::open(store)
        .with_context(|| format!("Failed to open the store `{}`", store.display()))?
        .latest()?
        .with_context(|| format!("The store `{}` has no snapshot yet: load one with `phm ingest`", store.display()))?
        .id();
    if profiles_snapshot(profiles) == Some(latest) && profiles.join("quality.json").exists() {
        println!("{step} profiles of snapshot {latest} are up to date in {}", profiles.display());
        return Ok(());
    }
    println!("{step} computing the profiles of snapshot {latest} (public and analyst releases, with trends)");
    super::profiles::run(&ProfilesArgs {
        store: store.to_path_buf(),
        as_at: None,
        framework: framework.to_path_buf(),
        england: PathBuf::from("reference/england.csv"),
        policy: vec!["public".into(), "analyst".into()],
        out: profiles.to_path_buf(),
        trend_points: 24,
        trend_every_months: 1,
        quiet: false,
    })?;
    println!("{step} assessing data quality");
    super::quality::run(&QualityArgs {
        store: store.to_path_buf(),
        snapshot: None,
        json: Some(profiles.join("quality.json")),
        csv: None,
    })?;
    Ok(())
}

fn start(args: &ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let config = phm_web::Config {
        profiles: args.profiles.clone(),
        quality: Some(args.profiles.join("quality.json")),
        boundaries: args.boundaries.clone(),
        accounts: args.accounts.clone(),
        policies: phm_disclosure::PolicySet::builtin()?,
        secure_cookies: !args.insecure_cookies,
    };
    let app = phm_web::App::load(&config)
        .with_context(|| format!("Failed to load the web app's data from `{}`", args.profiles.display()))?;
    let addr = SocketAddr::new(args.bind, args.port);
    let rt = super::runtime()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("Cannot listen on {addr}: is another server using the port? Try `--port`"))?;
        let local = listener.local_addr()?;
        let shown =
            if args.bind.is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), local.port()) } else { local };
        println!(
            "Serving {} indicators for {} areas (loaded in {:.1} s) at http://{shown}/  (Ctrl+C to stop)",
            app.catalogue.indicators.len(),
            app.catalogue.areas.len(),
            started.elapsed().as_secs_f64()
        );
        phm_web::serve_on(app, listener).await?;
        anyhow::Ok(())
    })
}

pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    if let Some(store) = &args.store {
        prepare(store, &args.profiles, &args.framework, "•")?;
    }
    start(args)
}

pub fn demo(args: &DemoArgs) -> anyhow::Result<()> {
    let synthetic = args.data.join("synthetic");
    let store = args.data.join("store");
    let profiles = args.data.join("profiles");
    let manifest = synthetic.join("manifest.json");
    let same_drop = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|m| {
            m["parameters"]["population"].as_u64() == Some(args.population)
                && m["parameters"]["seed"].as_u64() == Some(args.seed)
        });
    if same_drop {
        println!(
            "Step 1 of 4: the synthetic population ({} people, seed {}) is already in {}",
            args.population,
            args.seed,
            synthetic.display()
        );
    } else {
        println!(
            "Step 1 of 4: generating the synthetic BLMK population ({} people) in {}",
            args.population,
            synthetic.display()
        );
        super::synth::run(&SynthArgs {
            population: args.population,
            seed: args.seed,
            out: synthetic.clone(),
            extract_date: None,
            threads: None,
            quiet: false,
        })?;
    }
    let loaded = Store::open(&store).ok().and_then(|s| s.latest().ok().flatten()).is_some();
    if loaded && same_drop {
        println!("Step 2 of 4: the store {} is already loaded", store.display());
    } else {
        if loaded {
            bail!(
                "`{}` holds a store loaded from another population: remove `{}` (and `{}`) or pick another `--data` folder",
                store.display(),
                store.display(),
                profiles.display()
            );
        }
        println!("Step 2 of 4: loading it into the store {}", store.display());
        super::ingest::run(&IngestArgs {
            store: store.clone(),
            key: None,
            manifest: Some(manifest),
            source: None,
            format: None,
            mapping: None,
            source_type: "other".into(),
            source_org: None,
            extract_date: None,
            allow_older: false,
            report: None,
            quiet: false,
            paths: Vec::new(),
        })?;
    }
    prepare(&store, &profiles, Path::new("definitions/framework.toml"), "Step 3 of 4:")?;
    if args.no_serve {
        println!("Step 4 of 4: skipped (--no-serve). Serve it with `phm serve --profiles {}`", profiles.display());
        return Ok(());
    }
    println!(
        "Step 4 of 4: serving. Staff accounts: `phm users add NAME --role analyst --accounts {}`",
        args.data.join("accounts").display()
    );
    start(&ServeArgs {
        store: None,
        profiles,
        framework: PathBuf::from("definitions/framework.toml"),
        bind: [127, 0, 0, 1].into(),
        port: args.port,
        accounts: args.data.join("accounts"),
        boundaries: None,
        insecure_cookies: true,
    })
}
