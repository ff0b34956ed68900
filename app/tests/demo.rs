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
    // The referee decided: no job escalated to a vote, and the dishonest replicas' roots were
    // played out in dispute games.
    let jobs = report["jobs"].as_array().unwrap();
    assert!(jobs.iter().all(|j| j["escalated"] == false), "{jobs:?}");
    assert!(
        jobs.iter().any(|j| j["games"].as_u64().unwrap() > 0),
        "{jobs:?}"
    );
    // The dishonest operators lost stake; the honest were paid.
    for op in report["operators"].as_array().unwrap() {
        match op["behaviour"].as_str().unwrap() {
            "honest" => assert!(op["paid"].as_u64().unwrap() > 0 && op["slashed"] == 0),
            _ => assert!(op["slashed"].as_u64().unwrap() > 0),
        }
    }
    std::fs::remove_dir_all(&out).ok();
}

/// A newcomer's first run: the `tessera` binary with an empty environment (no `RUST_LOG`, no
/// variables of ours) prints its tables, not the in-process bank's debug log or the
/// program's `msg!` lines.
#[test]
fn a_first_run_of_the_demo_binary_prints_the_tables_and_no_log_flood() {
    let out = std::env::temp_dir().join(format!("tessera-demo-bin-{}", std::process::id()));
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["demo", "--out"])
        .arg(&out)
        .env_clear()
        .output()
        .expect("run the tessera binary");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "demo failed: {stderr}");
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        for noise in ["DEBUG", "TRACE", "Program log:", "solana_runtime", "INFO"] {
            assert!(
                !text.contains(noise),
                "{name} contains `{noise}`:\n{}",
                text.lines()
                    .filter(|l| l.contains(noise))
                    .take(5)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    // What it does print: the jobs and operators tables.
    assert!(
        stdout.contains("behaviour") && stdout.contains("Accepted"),
        "{stdout}"
    );
    assert!(
        stdout.lines().count() < 200,
        "{} lines on stdout",
        stdout.lines().count()
    );
    std::fs::remove_dir_all(&out).ok();
}
