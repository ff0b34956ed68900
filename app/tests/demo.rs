//! The demo is part of the test suite: it must run, keep every invariant, and write its image
//! and report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_and_keeps_every_invariant() {
    let out = std::env::temp_dir().join(format!("tessera-demo-test-{}", std::process::id()));
    let ok = tessera_app::demo::run(&out).await.expect("the demo runs");
    assert!(ok, "an invariant failed");
    let png = std::fs::read(out.join("render.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["image"]["tiles"], 16);
    assert_eq!(report["invariants_hold"], true);
    assert_eq!(report["jobs"].as_array().unwrap().len(), 18);
    // The dishonest operators lost stake; the honest were paid.
    for op in report["operators"].as_array().unwrap() {
        match op["behaviour"].as_str().unwrap() {
            "honest" => assert!(op["paid"].as_u64().unwrap() > 0 && op["slashed"] == 0),
            _ => assert!(op["slashed"].as_u64().unwrap() > 0),
        }
    }
    std::fs::remove_dir_all(&out).ok();
}
