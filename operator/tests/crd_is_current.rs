//! The committed CRD must be exactly what `blackfriday-operator crd` prints.
//! Regenerate with: cargo run -p blackfriday-operator -- crd > crds/blackfriday.dev_blackfridaypipelines.yaml

#[test]
fn committed_crd_matches_the_generated_one() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crds/blackfriday.dev_blackfridaypipelines.yaml"
    );
    let committed = std::fs::read_to_string(path)
        .expect("crds/blackfriday.dev_blackfridaypipelines.yaml exists");
    assert!(
        committed == blackfriday_operator::crd::crd_yaml(),
        "crds/ is stale: run `cargo run -p blackfriday-operator -- crd > crds/blackfriday.dev_blackfridaypipelines.yaml`"
    );
}

#[test]
fn the_crd_yaml_means_the_same_as_the_crd() {
    let yaml = blackfriday_operator::crd::crd_yaml();
    let parsed: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
    let direct = serde_json::to_value(
        <blackfriday_operator::crd::BlackFridayPipeline as kube::CustomResourceExt>::crd(),
    )
    .unwrap();
    assert_eq!(parsed, direct);
}
