//! Unit tests of plans: validation (errors name the field), the validated value, and the
//! shape reports show.

use std::time::Duration;

use super::*;

fn single(load: Load) -> RunPlan {
    RunPlan::new(
        Targets::Single(RequestSpec::new("GET", "http://127.0.0.1:1/")),
        load,
    )
}

fn iterations() -> Load {
    Load::Iterations {
        iterations: 10,
        concurrency: 2,
        duration: None,
    }
}

fn field_of(plan: RunPlan) -> Option<String> {
    plan.validate().err().map(|err| err.field().to_owned())
}

fn endpoint(name: &str, url: &str) -> EndpointPlan {
    EndpointPlan {
        name: name.to_owned(),
        request: RequestSpec::new("GET", url),
        weight: 1,
        expected_status: ExpectedStatus { codes: Vec::new() },
    }
}

fn scenario(name: &str, urls: &[&str]) -> ScenarioPlan {
    ScenarioPlan {
        name: name.to_owned(),
        weight: 1,
        steps: urls
            .iter()
            .enumerate()
            .map(|(i, url)| StepPlan {
                name: format!("s{i}"),
                request: RequestSpec::new("GET", url),
                think_time: Duration::ZERO,
                extract: Vec::new(),
                expected_status: ExpectedStatus { codes: Vec::new() },
            })
            .collect(),
    }
}

#[test]
fn a_valid_plan_keeps_its_parsed_origin_and_compiled_targets() {
    let valid = single(iterations()).validate().expect("a valid plan");
    assert_eq!(valid.origins().len(), 1);
    assert_eq!(valid.origins()[0].port, 1);
    let (_, _, targets) = valid.into_parts();
    assert_eq!(targets.len(), 1);
    let endpoints = RunPlan::new(
        Targets::Endpoints {
            list: vec![endpoint("a", "http://h:8/a"), endpoint("b", "http://h:8/b")],
            distribution: Distribution::RoundRobin,
        },
        iterations(),
    );
    let valid = endpoints.validate().expect("a valid plan");
    assert_eq!(valid.origins().len(), 1, "one origin for both endpoints");
    assert_eq!(valid.origins()[0].path_and_query, "/a");
    let (_, _, targets) = valid.into_parts();
    assert_eq!(targets.len(), 2);
    assert_eq!((targets[0].origin, targets[1].origin), (0, 0));
    assert_eq!(targets[1].label.name.as_deref(), Some("b"));
}

#[test]
fn errors_name_the_field() {
    let zero = single(Load::ConstantConcurrency {
        concurrency: 0,
        duration: Duration::from_secs(1),
    });
    assert_eq!(field_of(zero).as_deref(), Some("concurrency"));
    let negative = single(Load::ConstantRps {
        rps: -5.0,
        duration: Duration::from_secs(1),
        concurrency: 1,
        max_in_flight: 10,
    });
    let err = negative
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("targetRps") && err.contains("-5"), "{err}");
    let bad_url = RunPlan::new(
        Targets::Single(RequestSpec::new("GET", "ftp://x/")),
        iterations(),
    );
    assert_eq!(field_of(bad_url).as_deref(), Some("url"));
    let mut bad_method = single(iterations());
    bad_method.targets = Targets::Single(RequestSpec::new("GE T", "http://h/"));
    assert_eq!(field_of(bad_method).as_deref(), Some("method"));
}

#[test]
fn endpoints_and_steps_may_each_name_their_own_origin() {
    let endpoints = RunPlan::new(
        Targets::Endpoints {
            list: vec![
                endpoint("a", "http://h:8/a"),
                endpoint("b", "http://g:8/b"),
                endpoint("c", "http://h:8/c"),
                endpoint("d", "https://h:8/d"),
                endpoint("e", "http://h:9/e"),
            ],
            distribution: Distribution::Weighted,
        },
        iterations(),
    );
    let valid = endpoints.validate().expect("endpoints on several origins");
    let origins: Vec<(bool, &str, u16)> = valid
        .origins()
        .iter()
        .map(|origin| (origin.tls, origin.host.as_str(), origin.port))
        .collect();
    assert_eq!(
        origins,
        [
            (false, "h", 8),
            (false, "g", 8),
            (true, "h", 8),
            (false, "h", 9)
        ],
        "distinct by scheme, host and port, in order of first use"
    );
    let (_, _, targets) = valid.into_parts();
    let indices: Vec<usize> = targets.iter().map(|target| target.origin).collect();
    assert_eq!(indices, [0, 1, 0, 2, 3]);
    assert_eq!(&*targets[3].label.origin, "https://h:8");

    let steps = RunPlan::new(
        Targets::Scenarios(vec![
            scenario("a", &["http://login:8/"]),
            scenario("b", &["http://login:8/x", "https://api/y"]),
        ]),
        iterations(),
    );
    let valid = steps.validate().expect("steps on several origins");
    assert_eq!(valid.origins().len(), 2);
    let (_, _, targets) = valid.into_parts();
    let indices: Vec<usize> = targets.iter().map(|target| target.origin).collect();
    assert_eq!(indices, [0, 0, 1]);
}

#[test]
fn empty_lists_and_open_loop_scenarios_are_refused() {
    let no_endpoints = RunPlan::new(
        Targets::Endpoints {
            list: Vec::new(),
            distribution: Distribution::Weighted,
        },
        iterations(),
    );
    assert_eq!(field_of(no_endpoints).as_deref(), Some("endpoints"));
    let no_scenarios = RunPlan::new(Targets::Scenarios(Vec::new()), iterations());
    assert_eq!(field_of(no_scenarios).as_deref(), Some("scenarios"));
    let open_loop = RunPlan::new(
        Targets::Scenarios(vec![scenario("a", &["http://h:8/"])]),
        Load::ConstantRps {
            rps: 10.0,
            duration: Duration::from_secs(1),
            concurrency: 1,
            max_in_flight: 10,
        },
    );
    assert_eq!(field_of(open_loop).as_deref(), Some("scenarios"));
}

#[test]
fn the_headline_is_checked_but_not_sent() {
    let mut plan = RunPlan::new(
        Targets::Endpoints {
            list: vec![endpoint("a", "http://h:8/a")],
            distribution: Distribution::Weighted,
        },
        iterations(),
    );
    plan.headline = Some(RequestSpec::new("POST", "http://h:8/described"));
    let valid = plan.clone().validate().expect("a valid plan");
    assert_eq!(valid.plan().headline_request().url, "http://h:8/described");
    let (_, _, targets) = valid.into_parts();
    assert_eq!(targets.len(), 1);
    assert_eq!(&*targets[0].label.url, "http://h:8/a");
    plan.headline = Some(RequestSpec::new("POST", "nope"));
    assert_eq!(field_of(plan).as_deref(), Some("url"));
}

#[test]
fn thresholds_name_known_targets_only() {
    let mut plan = RunPlan::new(
        Targets::Scenarios(vec![scenario("a", &["http://h:8/"])]),
        iterations(),
    );
    plan.thresholds =
        vec![
            crate::threshold::Threshold::parse("http_req_duration{endpoint:a.s0}", "p(95)<100")
                .expect("a threshold"),
        ];
    assert!(plan.clone().validate().is_ok());
    plan.thresholds =
        vec![
            crate::threshold::Threshold::parse("http_req_duration{endpoint:a}", "p(95)<100")
                .expect("a threshold"),
        ];
    assert_eq!(field_of(plan).as_deref(), Some("thresholds"));
}

#[test]
fn dynamic_values_in_the_host_are_refused_with_the_plan() {
    let plan = RunPlan::new(
        Targets::Single(RequestSpec::new(
            "GET",
            "http://{{$uuid}}.example/x/{{$uuid}}",
        )),
        iterations(),
    );
    assert_eq!(field_of(plan).as_deref(), Some("url"));
}

#[test]
fn live_header_names_are_checked() {
    let mut request = RequestSpec::new("GET", "http://h/");
    request
        .live_headers
        .push(LiveHeader::new("Bad Name", "x".to_owned()));
    let plan = RunPlan::new(Targets::Single(request), iterations());
    assert_eq!(field_of(plan).as_deref(), Some("headers"));
}

#[test]
fn every_request_can_be_changed_before_validation() {
    let mut plan = RunPlan::new(
        Targets::Scenarios(vec![
            scenario("a", &["http://h:8/1", "http://h:8/2"]),
            scenario("b", &["http://h:8/3"]),
        ]),
        iterations(),
    );
    plan.headline = Some(RequestSpec::new("GET", "http://h:8/0"));
    let urls: Vec<String> = plan.requests_mut().map(|r| r.url.clone()).collect();
    assert_eq!(
        urls,
        [
            "http://h:8/0",
            "http://h:8/1",
            "http://h:8/2",
            "http://h:8/3"
        ]
    );
    for request in plan.requests_mut() {
        request.headers.push(("X-Run".to_owned(), "1".to_owned()));
    }
    assert!(plan
        .targets
        .requests()
        .iter()
        .all(|request| request.headers.len() == 1));
}

/// The plan as reports show it (`metadata.configuration`) keeps the shape it had before the
/// targets became a sum type: these are the bytes the old `RunPlan` serialized to.
#[test]
fn reports_show_the_plan_in_its_old_shape() {
    fn request(method: &str, url: &str) -> RequestSpec {
        let mut request = RequestSpec::new(method, url);
        request.headers = vec![
            ("X-A".to_owned(), "1".to_owned()),
            ("Accept".to_owned(), "*/*".to_owned()),
        ];
        request.body = b"hi".to_vec();
        request
    }
    let expected = |codes: &[u16]| ExpectedStatus {
        codes: codes.to_vec(),
    };
    let mut single = RunPlan::new(
        Targets::Single(request("POST", "http://h:8/x")),
        iterations(),
    );
    single.workers = 3;
    single.expected_status.codes = vec![200, 201];
    single.thresholds =
        vec![crate::threshold::Threshold::parse("http_req_duration", "p(95)<100").expect("ok")];
    single.tests = Some(crate::load_test::TestPlan::new(
        "pm.test('a', () => {});".to_owned(),
        50.0,
    ));
    single.sampling = crate::sample::Sampling {
        success_rate: 5.0,
        slow_threshold: Some(Duration::from_millis(1000)),
        budget_per_reason: 5000,
        detail_budget: 10,
    };
    let single_json = r#"{"request":{"method":"POST","url":"http://h:8/x","headers":[["X-A","1"],["Accept","*/*"]]},"mode":"iterations","iterations":10,"concurrency":2,"duration":null,"timeout":"30s","connectTimeout":"10s","workers":3,"insecure":false,"timingBreakdown":false,"tickInterval":"100ms","expectedStatus":{"codes":[200,201]},"sampling":{"successRate":5.0,"slowThreshold":"1s","budgetPerReason":5000,"detailBudget":10},"thresholds":["http_req_duration: p(95)<100"],"tests":{"script":"pm.test('a', () => {});","sampleRate":50.0,"timeout":"100ms"},"endpoints":[],"scenarios":[],"distribution":"weighted"}"#;
    assert_eq!(serde_json::to_string(&single).expect("json"), single_json);

    let endpoint = |name: &str, request, weight, codes: &[u16]| EndpointPlan {
        name: name.to_owned(),
        request,
        weight,
        expected_status: expected(codes),
    };
    let mut endpoints = RunPlan::new(
        Targets::Endpoints {
            list: vec![
                endpoint("a", request("GET", "http://h:8/a"), 3, &[204]),
                endpoint("b", request("PUT", "http://h:8/b"), 1, &[]),
            ],
            distribution: Distribution::Sequential,
        },
        Load::ConstantRps {
            rps: 50.0,
            duration: Duration::from_secs(2),
            concurrency: 3,
            max_in_flight: 1000,
        },
    );
    endpoints.headline = Some(RequestSpec::new("GET", "http://h:8/own"));
    endpoints.workers = 4;
    let endpoints_json = r#"{"request":{"method":"GET","url":"http://h:8/own","headers":[]},"mode":"constant_rps","rps":50.0,"duration":"2s","concurrency":3,"maxInFlight":1000,"timeout":"30s","connectTimeout":"10s","workers":4,"insecure":false,"timingBreakdown":false,"tickInterval":"100ms","expectedStatus":{"codes":[]},"sampling":{"successRate":0.0,"slowThreshold":null,"budgetPerReason":0,"detailBudget":0},"thresholds":[],"tests":null,"endpoints":[{"name":"a","request":{"method":"GET","url":"http://h:8/a","headers":[["X-A","1"],["Accept","*/*"]]},"weight":3,"expectedStatus":{"codes":[204]}},{"name":"b","request":{"method":"PUT","url":"http://h:8/b","headers":[["X-A","1"],["Accept","*/*"]]},"weight":1,"expectedStatus":{"codes":[]}}],"scenarios":[],"distribution":"sequential"}"#;
    assert_eq!(
        serde_json::to_string(&endpoints).expect("json"),
        endpoints_json
    );

    let step = |name: &str, url, think_ms, codes: &[u16]| StepPlan {
        name: name.to_owned(),
        request: request("GET", url),
        think_time: Duration::from_millis(think_ms),
        extract: Vec::new(),
        expected_status: expected(codes),
    };
    let mut scenarios = RunPlan::new(
        Targets::Scenarios(vec![ScenarioPlan {
            name: "browse".to_owned(),
            weight: 2,
            steps: vec![
                step("s1", "http://h:8/s1", 100, &[]),
                step("s2", "http://h:8/s2/{{id}}", 0, &[200]),
            ],
        }]),
        Load::RampUp {
            start_concurrency: 0,
            concurrency: 4,
            ramp_up: Duration::from_secs(1),
            duration: Duration::from_secs(3),
        },
    );
    scenarios.workers = 4;
    let scenarios_json = r#"{"request":{"method":"GET","url":"http://h:8/s1","headers":[["X-A","1"],["Accept","*/*"]]},"mode":"ramp_up","startConcurrency":0,"concurrency":4,"rampUp":"1s","duration":"3s","timeout":"30s","connectTimeout":"10s","workers":4,"insecure":false,"timingBreakdown":false,"tickInterval":"100ms","expectedStatus":{"codes":[]},"sampling":{"successRate":0.0,"slowThreshold":null,"budgetPerReason":0,"detailBudget":0},"thresholds":[],"tests":null,"endpoints":[],"scenarios":[{"name":"browse","weight":2,"steps":[{"name":"s1","request":{"method":"GET","url":"http://h:8/s1","headers":[["X-A","1"],["Accept","*/*"]]},"thinkTime":"100ms","extract":[],"expectedStatus":{"codes":[]}},{"name":"s2","request":{"method":"GET","url":"http://h:8/s2/{{id}}","headers":[["X-A","1"],["Accept","*/*"]]},"thinkTime":"0s","extract":[],"expectedStatus":{"codes":[200]}}]}],"distribution":"weighted"}"#;
    assert_eq!(
        serde_json::to_string(&scenarios).expect("json"),
        scenarios_json
    );
}
