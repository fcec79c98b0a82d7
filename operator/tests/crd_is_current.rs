//! The committed CRD must be exactly what `blackfriday-operator crd` prints.
//! Regenerate with: cargo run -p blackfriday-operator -- crd > crds/blackfriday.dev_blackfridaypipelines.yaml

#[test]
fn committed_crd_matches_the_generated_one() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../crds/blackfriday.dev_blackfridaypipelines.yaml");
    let committed = std::fs::read_to_string(path).expect("crds/blackfriday.dev_blackfridaypipelines.yaml exists");
    assert!(
        committed == blackfriday_operator::crd::crd_yaml(),
        "crds/ is stale: run `cargo run -p blackfriday-operator -- crd > crds/blackfriday.dev_blackfridaypipelines.yaml`"
    );
}
