//! `phm scheduler` and `phm executor` exist in every build. A build without the `cluster`
//! feature (the default) says it has no cluster support and how to build one; a cluster build
//! (`--features cluster`, as CI builds) starts Ballista, here stopped early by a bad address.

use std::process::Command;

/// Runs `phm ARGS`, which must fail: its stderr.
fn fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_phm")).args(args).output().expect("run phm");
    assert!(!out.status.success(), "phm {} should fail", args.join(" "));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn cluster_commands_say_whether_this_build_has_cluster_support() {
    let scheduler = fails(&["scheduler", "--bind", "no such host"]);
    let executor = fails(&["executor", "--scheduler", "localhost:port"]);
    if cfg!(feature = "cluster") {
        assert!(scheduler.contains("`no such host:50050` is not an address to listen on"), "{scheduler}");
        assert!(executor.contains("`port` is not a port number"), "{executor}");
    } else {
        for err in [scheduler, executor] {
            assert!(err.contains("This build of phm has no cluster support (Ballista)"), "{err}");
            assert!(err.contains("cargo build --release -p phm --features cluster"), "{err}");
        }
    }
}
