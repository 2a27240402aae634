//! `vayu k8s render` and `vayu k8s collect`: the manifests of a split test as an Indexed
//! Job, read back as YAML (and checked against the Kubernetes schemas by
//! `kubernetes-validate --strict` where Python has it: `tools/ci.sh` installs it, and a test
//! that cannot import or install it fails under CI and is skipped, saying so, elsewhere);
//! then the pods' own script, run here as two local processes with `JOB_COMPLETION_INDEX`
//! set, against a test server: their stdout (each result gzipped, in base64, between
//! markers), prefixed as `kubectl logs --prefix` does and concatenated, is collected into
//! files that `vayu merge` turns into the whole test.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::check::LIMIT;
use vayu_tests::report::count;
use vayu_tests::{spawn, vayu_bin, Behaviour, Output, TempDir, TestServer};

/// The Kubernetes version the manifests are validated against (as in `tools/ci.sh`): the
/// oldest whose Job has `backoffLimitPerIndex` on by default.
const KUBERNETES_VERSION: &str = "1.29.0";
/// The validator's version `tools/ci.sh` installs.
const VALIDATOR: &str = "kubernetes-validate==1.37.0";

/// `vayu ARGS`.
fn vayu(args: &[&str]) -> Output {
    let mut cmd = Command::new(vayu_bin());
    cmd.args(args);
    spawn(cmd).wait(LIMIT)
}

/// The documents of a YAML stream, as JSON values.
fn documents(yaml: &str) -> Vec<Value> {
    yaml_serde::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{e}:\n{yaml}")))
        .collect()
}

/// Renders `plan` with `args`; the ConfigMap and the Job.
fn render(plan: &Path, args: &[&str]) -> (String, Value, Value) {
    let plan = plan.to_string_lossy();
    let mut all = vec!["k8s", "render", &plan];
    all.extend_from_slice(args);
    let out = vayu(&all);
    assert_eq!(out.code, Some(0), "{out}");
    let docs = documents(&out.stdout);
    assert_eq!(docs.len(), 2, "a ConfigMap and a Job:\n{}", out.stdout);
    (out.stdout, docs[0].clone(), docs[1].clone())
}

/// A plan of `iterations` requests to `server`, with a threshold on the whole test's count.
fn write_plan(dir: &TempDir, server: &TestServer, iterations: u64) -> std::path::PathBuf {
    let plan = json!({
        "url": server.url(),
        "mode": "iterations",
        "iterations": iterations,
        "concurrency": 4,
        "workers": 1,
        "thresholds": {"http_reqs": ["count>150"]},
    });
    let path = dir.join("smoke-test.json");
    let text = serde_json::to_string_pretty(&plan).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn render_writes_an_indexed_job_holding_the_plan() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let plan = write_plan(&dir, &server, 200);
    let (yaml, config_map, job) = render(
        &plan,
        &[
            "--instances",
            "3",
            "--image",
            "registry.example/vayu:0.1.0",
            "--namespace",
            "load",
            "--cpu",
            "2",
            "--memory",
            "1Gi",
        ],
    );

    assert_eq!(config_map["kind"], "ConfigMap");
    assert_eq!(config_map["metadata"]["name"], "vayu-smoke-test");
    assert_eq!(config_map["metadata"]["namespace"], "load");
    let file = std::fs::read_to_string(&plan).unwrap();
    assert_eq!(
        config_map["data"]["smoke-test.json"], file,
        "the plan file as given"
    );

    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["metadata"]["name"], "vayu-smoke-test");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 3);
    assert_eq!(spec["parallelism"], 3);
    assert_eq!(
        spec["backoffLimitPerIndex"], 0,
        "an instance is never rerun"
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(
        pod["topologySpreadConstraints"][0]["topologyKey"],
        "kubernetes.io/hostname"
    );
    assert_eq!(pod["volumes"][0]["configMap"]["name"], "vayu-smoke-test");
    let container = &pod["containers"][0];
    assert_eq!(container["image"], "registry.example/vayu:0.1.0");
    assert_eq!(container["resources"]["requests"]["cpu"], "2");
    assert_eq!(container["resources"]["limits"]["memory"], "1Gi");
    let script = container["command"][2].as_str().unwrap_or_default();
    assert!(
        script.contains(
            "vayu run /plan/smoke-test.json --instance \"$JOB_COMPLETION_INDEX\" --instances 3 --start-at "
        ),
        "{script}"
    );
    assert!(
        script.contains("----- VAYU RESULT instance=$JOB_COMPLETION_INDEX BEGIN gzip+base64 -----"),
        "{script}"
    );

    if let Some(validator) = validator() {
        let file = dir.join("manifests.yaml");
        std::fs::write(&file, &yaml).unwrap();
        let out = Command::new(validator)
            .args([
                "-m",
                "kubernetes_validate",
                "--strict",
                "-k",
                KUBERNETES_VERSION,
            ])
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "kubernetes-validate --strict: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(stdout.matches("passed").count(), 2, "{stdout}");
    }
}

#[test]
fn render_refuses_what_vayu_run_would_refuse() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let plan = write_plan(&dir, &server, 200);
    let plan = plan.to_string_lossy();
    let typo = dir.join("typo.json");
    let text = format!(
        "{{\n  \"url\": \"{}\",\n  \"mode\": \"iterations\",\n  \"iterations\": 10,\n  \"concurency\": 4\n}}",
        server.url()
    );
    std::fs::write(&typo, text).unwrap();
    let typo = typo.to_string_lossy();
    let image = ["--image", "vayu:dev"];
    let cases: [(Vec<&str>, &str); 5] = [
        (
            vec![&typo, "--instances", "2"],
            "typo.json:5: field `concurency`",
        ),
        (
            vec![&plan, "--instances", "5"],
            "concurrency must be at least `instances`",
        ),
        (
            vec![&plan, "--instances", "1"],
            "a split test needs at least 2 instances",
        ),
        (
            vec![&plan, "--instances", "2", "--name", "Big_Test"],
            "expected a DNS label",
        ),
        (
            vec![&plan, "--instances", "2", "--memory", "lots"],
            "expected a positive Kubernetes quantity",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["k8s", "render"];
        all.extend_from_slice(&args);
        all.extend_from_slice(&image);
        let out = vayu(&all);
        assert_eq!(out.code, Some(2), "{args:?}: {out}");
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    assert_eq!(server.requests(), 0);
}

#[test]
fn the_pods_results_come_back_through_their_logs_and_merge_into_the_whole_test() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let plan = write_plan(&dir, &server, 200);
    let (_, config_map, job) = render(
        &plan,
        &[
            "--instances",
            "2",
            "--image",
            "vayu:dev",
            "--name",
            "smoke",
            "--start-delay",
            "5s",
        ],
    );

    // The pod's filesystem: /plan from the ConfigMap, /results, `vayu` on the PATH.
    let root = dir.join("pod");
    std::fs::create_dir_all(root.join("plan")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    let plan_text = config_map["data"]["smoke-test.json"]
        .as_str()
        .unwrap_or_default();
    std::fs::write(root.join("plan/smoke-test.json"), plan_text).unwrap();
    std::os::unix::fs::symlink(vayu_bin(), root.join("bin/vayu")).unwrap();
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap_or_default();

    let pods: Vec<_> = (0..2)
        .map(|index| {
            let results = root.join(format!("results-{index}"));
            std::fs::create_dir_all(&results).unwrap();
            let local = script
                .replace("/plan/", &format!("{}/plan/", root.display()))
                .replace("/results/", &format!("{}/", results.display()));
            let mut cmd = Command::new("/bin/sh");
            cmd.args(["-c", &local])
                .env("PATH", &path)
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .env_remove("VAYU_INSTANCES");
            spawn(cmd)
        })
        .collect();
    let mut logs = String::new();
    for (index, pod) in pods.into_iter().enumerate().rev() {
        let out = pod.wait(LIMIT);
        // Each instance sent 100 and fails `count>150` on its own (vayu run exits 99): no
        // failure of the pod, the threshold is judged on the whole by vayu merge.
        assert_eq!(out.code, Some(0), "{out}");
        for line in out.stdout.lines() {
            logs.push_str(&format!("[pod/smoke-{index}-x7k2p/vayu] {line}\n"));
        }
    }
    assert_eq!(server.requests(), 200, "the target counts the whole test");

    let logs_file = dir.join("logs.txt");
    std::fs::write(&logs_file, &logs).unwrap();
    let parts = dir.join("parts");
    let parts_dir = parts.to_string_lossy();
    // From stdin, as in `kubectl logs … | vayu k8s collect --out-dir DIR`.
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "\"$0\" k8s collect --out-dir \"$1\" < \"$2\""])
        .arg(vayu_bin())
        .arg(&*parts_dir)
        .arg(&logs_file);
    let out = spawn(cmd).wait(LIMIT);
    assert_eq!(out.code, Some(0), "{out}");
    let files: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(files.len(), 2, "{out}");
    assert!(files[0].ends_with("part-0.json") && files[1].ends_with("part-1.json"));
    for file in &files {
        let part: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let ticks = part["mergeable"]["ticks"].as_array().map_or(0, Vec::len);
        assert!(ticks > 0, "{file}: the live ticks travel too");
    }

    let mut args = vec!["merge", "--json"];
    args.extend(files.iter().copied());
    let out = vayu(&args);
    assert_eq!(out.code, Some(0), "200 > 150 on the whole: {out}");
    let merged: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(count(&merged, "/summary/totalRequests"), server.requests());
    assert_eq!(merged["passed"], true);

    // The same logs cut before instance 1's END marker are refused, naming it.
    let cut = logs
        .lines()
        .filter(|line| !line.ends_with("----- VAYU RESULT instance=1 END -----"))
        .collect::<Vec<_>>()
        .join("\n");
    let cut_file = dir.join("cut.txt");
    std::fs::write(&cut_file, cut).unwrap();
    let out = vayu(&[
        "k8s",
        "collect",
        &cut_file.to_string_lossy(),
        "--out-dir",
        &dir.join("none").to_string_lossy(),
    ]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("instance 1: no END marker"),
        "{}",
        out.stderr
    );
    assert!(!dir.join("none").exists(), "nothing is written");
}

/// `python3` when it can import `kubernetes_validate` (installing it with pip if needed).
/// `None` (skip) only outside CI; under CI a missing validator fails the test.
fn validator() -> Option<&'static str> {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = AVAILABLE.get_or_init(|| {
        let import = || {
            Command::new("python3")
                .args(["-c", "import kubernetes_validate"])
                .output()
                .is_ok_and(|out| out.status.success())
        };
        if import() {
            return Ok(());
        }
        let install = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", VALIDATOR])
            .output();
        if import() {
            return Ok(());
        }
        Err(match install {
            Ok(out) => format!(
                "`python3 -m pip install {VALIDATOR}`: {}; {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(err) => format!("python3: {err}"),
        })
    });
    match outcome {
        Ok(()) => Some("python3"),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the Kubernetes schema validator (python3 kubernetes_validate) is missing under CI: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED: python3 cannot import or install kubernetes_validate, so the \
                 manifests are not checked against the Kubernetes schemas ({why})"
            );
            None
        }
    }
}
