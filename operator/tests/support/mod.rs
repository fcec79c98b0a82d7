//! Helpers shared by the operator's integration tests (each file under tests/ includes this with
//! `mod support;`).

/// A test's bench input (KUBECONFIG, VALKEY_SERVER, an installed tool) is absent. On a developer's
/// machine the test then returns early and says so; in CI (`CI=true`, where scripts/test has started
/// the bench) it fails instead, so a renamed key or `--no-bench` cannot pass by skipping.
pub fn missing_bench(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what}; CI=true, so this fails instead of skipping: the bench must provide it");
    }
    eprintln!("skipped: {what}");
}
