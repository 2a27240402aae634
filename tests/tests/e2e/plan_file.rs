//! `vayu run plan.json|plan.toml`: the `POST /run` body from a file. Exact counts and
//! thresholds from the file, endpoints on several origins (HTTP and HTTPS); errors (a test
//! script that does not compile included) name the file, the line and the field, and exit 2
//! before anything is sent.

use crate::check::{assert_all_ok, LIMIT};
use vayu_tests::{run, run_json, Behaviour, TempDir, TestServer, TlsServer};

#[test]
fn json_and_toml_plans_run_exactly() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let json = dir.join("plan.json");
    let body = serde_json::json!({"method": "GET", "url": server.url(), "mode": "iterations", "iterations": 60, "concurrency": 3});
    std::fs::write(&json, body.to_string()).unwrap();
    let doc = run_json(&[&json.to_string_lossy(), "--workers", "1"], LIMIT);
    assert_all_ok(&server, &doc, 60);

    let other = TestServer::start(Behaviour::Ok);
    let toml = dir.join("plan.toml");
    let text = format!(
        "url = \"{}\"\nmode = \"iterations\"\niterations = 40\nconcurrency = 2\n\n[thresholds]\nhttp_req_failed = [\"rate<0.01\"]\n",
        other.url()
    );
    std::fs::write(&toml, text).unwrap();
    let doc = run_json(&[&toml.to_string_lossy(), "--workers", "1"], LIMIT);
    assert_all_ok(&other, &doc, 40);
    assert_eq!(doc["passed"], true);
    assert_eq!(
        doc["thresholds"][0]["expression"],
        "http_req_failed: rate<0.01"
    );
}

#[test]
fn bad_plans_name_the_file_line_and_field() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let url = server.url();
    let cases = [
        ("zero.json", format!("{{\n  \"url\": \"{url}\",\n  \"mode\": \"iterations\",\n  \"iterations\": 0\n}}"), "zero.json:4: field `iterations`"),
        ("syntax.json", format!("{{\n  \"url\": \"{url}\",\n  \"mode\": ,\n}}"), "syntax.json:3:"),
        ("mode.toml", format!("url = \"{url}\"\nmode = \"sometimes\"\n"), "mode.toml:2: field `mode`"),
        ("threshold.toml", format!("url = \"{url}\"\nmode = \"iterations\"\niterations = 1\n[thresholds]\nhttp_req_duration = [\"p(95)<soon\"]\n"), "threshold.toml:5: field `thresholds.http_req_duration`"),
        ("types.toml", format!("url = \"{url}\"\nmode = \"iterations\"\niterations = \"many\"\n"), "types.toml:3: field `iterations`"),
        ("twice.json", format!("{{\n  \"url\": \"{url}\",\n  \"mode\": \"iterations\",\n  \"iterations\": 5,\n  \"iterations\": 6\n}}"), "twice.json:4: field `iterations`: is given twice"),
        ("typo.json", format!("{{\n  \"url\": \"{url}\",\n  \"mode\": \"iterations\",\n  \"iterations\": 5,\n  \"concurency\": 2\n}}"), "typo.json:5: field `concurency`: unknown field `concurency` (did you mean \"concurrency\"?)"),
        ("typo.toml", format!("url = \"{url}\"\nmode = \"iterations\"\niterations = 1\n\n[[endpoints]]\nname = \"a\"\nurl = \"{url}\"\nwieght = 2\n"), "typo.toml:8: field `endpoints[0].wieght`"),
        ("script.json", format!("{{\n  \"url\": \"{url}\",\n  \"mode\": \"iterations\",\n  \"iterations\": 5,\n  \"tests\": \"pm.test('a', () => {{}});\\nlet x = ;\"\n}}"), "script.json:5: field `tests`: the script does not compile (line 2)"),
    ];
    for (name, text, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let out = run(&[&path.to_string_lossy()], LIMIT);
        assert_eq!(out.code, Some(2), "{name}: {out}");
        assert!(
            out.stderr.contains(expected),
            "{name}: stderr should contain {expected:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    // The file holds the load and the request: a flag that would change them is refused,
    // not ignored.
    let plan = dir.join("plan.json");
    let body = serde_json::json!({"url": url, "mode": "iterations", "iterations": 5});
    std::fs::write(&plan, body.to_string()).unwrap();
    for (flags, named) in [
        (&["-m", "POST"][..], "-m/--method"),
        (&["-d", "x"][..], "-d/--body"),
        (&["-D", "body.bin"][..], "-D/--body-file"),
        (&["-c", "4"][..], "-c/--connections"),
    ] {
        let mut args = vec![plan.to_string_lossy().into_owned()];
        args.extend(flags.iter().map(|flag| (*flag).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, LIMIT);
        assert_eq!(out.code, Some(2), "{flags:?}: {out}");
        assert!(
            out.stderr
                .contains(&format!("{named} cannot be combined with a plan file")),
            "{flags:?}: {}",
            out.stderr
        );
    }
    // A collection's requests have their own method and body too.
    let collection = dir.join("collection.json");
    let doc = serde_json::json!({
        "info": {"name": "c", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "item": [{"name": "r", "request": {"method": "GET", "url": url}}]
    });
    std::fs::write(&collection, doc.to_string()).unwrap();
    let out = run(&[&collection.to_string_lossy(), "-m", "PUT"], LIMIT);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr
            .contains("-m/--method cannot be combined with a collection"),
        "{}",
        out.stderr
    );
    let missing = run(&[&dir.join("absent.json").to_string_lossy()], LIMIT);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing.stderr.contains("cannot read plan file"),
        "{}",
        missing.stderr
    );
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_toml_plan_with_weighted_endpoints_and_per_endpoint_thresholds() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let url = server.url();
    let text = format!(
        "mode = \"iterations\"\niterations = 100\nconcurrency = 2\ndistribution_strategy = \"weighted\"\n\n\
         [[endpoints]]\nname = \"a\"\nurl = \"{url}a\"\nweight = 3\n\n[[endpoints]]\nname = \"b\"\nurl = \"{url}b\"\nweight = 1\n\n\
         [thresholds]\n\"http_reqs{{endpoint:a}}\" = [\"count==75\"]\n"
    );
    let plan = dir.join("endpoints.toml");
    std::fs::write(&plan, text).unwrap();
    let doc = run_json(&[&plan.to_string_lossy(), "--workers", "1"], LIMIT);
    assert_eq!(
        doc["endpoints"]["a"]["summary"]["totalRequests"], 75,
        "{doc}"
    );
    assert_eq!(doc["endpoints"]["b"]["summary"]["totalRequests"], 25);
    assert_eq!(doc["passed"], true);

    let zero = dir.join("zero.toml");
    std::fs::write(&zero, format!("mode = \"iterations\"\niterations = 1\n\n[[endpoints]]\nname = \"a\"\nurl = \"{url}\"\nweight = 0\n"))
        .unwrap();
    let out = run(&[&zero.to_string_lossy()], LIMIT);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr
            .contains("zero.toml:7: field `endpoints[0].weight`"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_plan_may_send_each_endpoint_to_its_own_origin() {
    let first = TestServer::start(Behaviour::Ok);
    let second = TestServer::start(Behaviour::Ok);
    let secure = TlsServer::start();
    let dir = TempDir::new();
    let plan = dir.join("origins.json");
    let body = serde_json::json!({
        "mode": "iterations", "iterations": 90, "concurrency": 3, "insecure": true,
        // Round robin on one shard: exactly one third each.
        "distribution_strategy": "round_robin",
        "endpoints": [
            {"name": "first", "url": format!("{}one", first.url())},
            {"name": "second", "url": format!("{}two", second.url())},
            {"name": "secure", "url": format!("{}three", secure.url())},
        ],
    });
    std::fs::write(&plan, body.to_string()).unwrap();
    let doc = run_json(&[&plan.to_string_lossy(), "--workers", "1"], LIMIT);
    assert_eq!(doc["summary"]["successfulRequests"], 90, "{doc}");
    for name in ["first", "second", "secure"] {
        assert_eq!(
            doc["endpoints"][name]["summary"]["totalRequests"], 30,
            "{name}: {doc}"
        );
    }
    assert_eq!(first.requests(), 30);
    assert_eq!(second.requests(), 30);
    assert_eq!(secure.requests(), 30);
    // One connection per user and origin: 3 users, at most 3 connections to each.
    assert!(first.connections() <= 3 && second.connections() <= 3);
    assert!(
        (1..=3).contains(&secure.handshakes()),
        "{}",
        secure.handshakes()
    );
}

/// Flags win over the file: `--timeout` and `--connect-timeout` replace the plan's; a
/// header the plan sets cannot be set again by a flag (two would be sent), exit 2.
#[test]
fn flags_win_over_the_plan_and_never_double_a_header() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let plan = dir.join("plan.json");
    let body = serde_json::json!({"url": server.url(), "mode": "iterations", "iterations": 3,
        "concurrency": 1, "timeout": "300ms", "headers": {"Content-Type": "a/b"}});
    std::fs::write(&plan, body.to_string()).unwrap();
    let plan = plan.to_string_lossy();
    let doc = run_json(
        &[&plan, "--timeout", "3s", "--connect-timeout", "2s"],
        LIMIT,
    );
    let configuration = &doc["metadata"]["configuration"];
    assert_eq!(configuration["timeout"], "3s", "{configuration}");
    assert_eq!(configuration["connectTimeout"], "2s", "{configuration}");
    let doc = run_json(&[&plan], LIMIT);
    assert_eq!(doc["metadata"]["configuration"]["timeout"], "300ms");
    for flags in [["-T", "c/d"], ["-H", "content-type: c/d"]] {
        let out = run(&[&plan, flags[0], flags[1]], LIMIT);
        assert_eq!(out.code, Some(2), "{flags:?}: {out}");
        assert!(
            out.stderr
                .to_lowercase()
                .contains("already sets content-type"),
            "{out}"
        );
    }
    assert_eq!(server.requests(), 6, "the refused runs sent nothing");
}
