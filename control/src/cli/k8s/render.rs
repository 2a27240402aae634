//! `vayu k8s render PLAN --instances N --image IMAGE`: the plan, validated as `vayu run
//! PLAN --instances N` would, and the manifests that run it as N pods on (preferably)
//! different nodes, printed as one YAML stream: a ConfigMap holding the plan file as given,
//! and an Indexed Job whose pod I runs instance I (`$JOB_COMPLETION_INDEX`) with a start
//! time fixed now (render time + `--start-delay`), then prints its result file (gzipped,
//! base64) between markers so that `kubectl logs` carries it back (`vayu k8s collect`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, FromArgMatches};

use super::manifest::{
    Capabilities, ConfigMap, ConfigMapVolume, Container, ContainerSecurityContext, EmptyDir, Job,
    JobSpec, LabelSelector, Map, ObjectMeta, PodSecurityContext, PodSpec, PodTemplate, Resources,
    TopologySpreadConstraint, Volume, VolumeMount,
};
use super::{begin_marker, end_marker, write_stdout};
use crate::cli::{parse_duration, RunArgs, EXIT_FAILURE, EXIT_USAGE};

/// The user (and group) the pods run as: the image's (`USER 10001:10001` in the
/// Dockerfile), numeric so that the kubelet can check `runAsNonRoot`.
pub const POD_USER: u32 = 10001;

/// Where the plan file is mounted in the pod.
const PLAN_DIR: &str = "/plan";
/// Where the instance writes its result (an `emptyDir`: the root filesystem is read-only).
const RESULTS_DIR: &str = "/results";

/// A ConfigMap holds at most 1 MiB; the plan must fit with the object around it.
const MAX_PLAN_BYTES: usize = 1_000_000;

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The run plan file (.json or .toml), as for `vayu run PLAN`.
    #[arg(value_name = "PLAN", value_parser = parse_plan_path)]
    pub plan: PathBuf,

    /// How many pods (instances) the test is split across: at least 2.
    #[arg(long = "instances", value_name = "N", value_parser = parse_instances)]
    pub instances: u32,

    /// The container image holding `vayu` (built from the repository's Dockerfile).
    #[arg(long = "image", value_name = "IMAGE", value_parser = parse_image)]
    pub image: String,

    /// Namespace of the ConfigMap and the Job. Default: kubectl's current namespace.
    #[arg(long = "namespace", value_name = "NS", value_parser = parse_dns_label)]
    pub namespace: Option<String>,

    /// Name of the ConfigMap and the Job (a DNS label). Default: `vayu-` and the plan
    /// file's name.
    #[arg(long = "name", value_name = "NAME", value_parser = parse_dns_label)]
    pub name: Option<String>,

    /// The test starts this long after rendering: time enough to apply the manifests,
    /// schedule the pods and pull the image. A pod that starts later exits 2.
    #[arg(long = "start-delay", value_name = "DURATION", default_value = "30s",
          value_parser = parse_duration)]
    pub start_delay: Duration,

    /// CPU of each pod, requested and limited alike (Kubernetes quantity: 2, 1500m).
    #[arg(long = "cpu", value_name = "QUANTITY", default_value = "1", value_parser = parse_quantity)]
    pub cpu: String,

    /// Memory of each pod, requested and limited alike (Kubernetes quantity: 512Mi, 2Gi).
    #[arg(long = "memory", value_name = "QUANTITY", default_value = "512Mi",
          value_parser = parse_quantity)]
    pub memory: String,

    /// Each pod reports live to the `vayu serve` daemon at URL (`vayu run --report-to`),
    /// which shows the whole test as one run. The daemon's API key, if it wants one, goes
    /// into the pods as `VAYU_API_KEY` (see deploy/kubernetes/README.md).
    #[arg(long = "report-to", value_name = "URL", value_parser = parse_report_to)]
    pub report_to: Option<String>,
}

pub fn execute(args: &RenderArgs) -> ExitCode {
    if let Err(message) = validate_plan(&args.plan, args.instances) {
        eprintln!("error: {message}");
        return ExitCode::from(EXIT_USAGE);
    }
    let text = match std::fs::read_to_string(&args.plan) {
        Ok(text) => text,
        Err(err) => {
            eprintln!(
                "error: cannot read plan file {}: {err}",
                args.plan.display()
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if text.len() > MAX_PLAN_BYTES {
        eprintln!(
            "error: {} holds {} bytes; a ConfigMap holds at most 1 MiB ({MAX_PLAN_BYTES} bytes of plan)",
            args.plan.display(),
            text.len()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let start = SystemTime::now().checked_add(args.start_delay);
    let start_at = match start
        .ok_or_else(|| "--start-delay is out of range".to_owned())
        .and_then(start_time)
    {
        Ok(start_at) => start_at,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let manifests = Manifests::new(args, text, &start_at);
    let written = manifests
        .to_yaml()
        .map_err(|err| err.to_string())
        .and_then(|yaml| write_stdout(&yaml).map_err(|err| err.to_string()));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: cannot write the manifests: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Validates the plan with `vayu run PLAN --instances N`'s own code (instance 0: every
/// instance is refused or accepted alike), flags at their defaults.
fn validate_plan(path: &Path, instances: u32) -> Result<(), String> {
    let argv: [OsString; 6] = [
        "--instances".into(),
        instances.to_string().into(),
        "--instance".into(),
        "0".into(),
        "--".into(),
        path.into(),
    ];
    let command = RunArgs::augment_args(clap::Command::new("run").no_binary_name(true));
    let matches = command
        .try_get_matches_from(argv)
        .map_err(|err| err.to_string())?;
    let run = RunArgs::from_arg_matches(&matches).map_err(|err| err.to_string())?;
    run.to_plan().map(drop)
}

/// `at` rounded up to the second, in RFC 3339 (UTC).
fn start_time(at: SystemTime) -> Result<String, String> {
    let since_epoch = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| "the start time is before 1970".to_owned())?;
    let secs = since_epoch.as_secs() + u64::from(since_epoch.subsec_nanos() > 0);
    let secs = i64::try_from(secs).map_err(|_| "the start time is out of range".to_owned())?;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|err| err.to_string())?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|err| err.to_string())
}

/// The ConfigMap and the Job of one rendering.
struct Manifests {
    config_map: ConfigMap,
    job: Job,
    /// The comment that heads the stream: what runs, when it starts, how to collect.
    summary: String,
}

impl Manifests {
    fn new(args: &RenderArgs, plan_text: String, start_at: &str) -> Manifests {
        let name = args
            .name
            .clone()
            .unwrap_or_else(|| default_name(&args.plan));
        let key = config_map_key(&args.plan);
        let labels = Map::from([
            ("app.kubernetes.io/name".to_owned(), "vayu".to_owned()),
            ("app.kubernetes.io/instance".to_owned(), name.clone()),
        ]);
        let meta = || ObjectMeta {
            name: Some(name.clone()),
            namespace: args.namespace.clone(),
            labels: labels.clone(),
        };
        let config_map = ConfigMap {
            api_version: "v1",
            kind: "ConfigMap",
            metadata: meta(),
            data: Map::from([(key.clone(), plan_text)]),
        };
        let quantities = Map::from([
            ("cpu".to_owned(), args.cpu.clone()),
            ("memory".to_owned(), args.memory.clone()),
        ]);
        let container = Container {
            name: "vayu",
            image: args.image.clone(),
            command: vec![
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                pod_script(&key, args.instances, start_at, args.report_to.as_deref()),
            ],
            resources: Resources {
                requests: quantities.clone(),
                limits: quantities,
            },
            security_context: ContainerSecurityContext {
                allow_privilege_escalation: false,
                read_only_root_filesystem: true,
                capabilities: Capabilities { drop: vec!["ALL"] },
            },
            volume_mounts: vec![
                VolumeMount {
                    name: "plan",
                    mount_path: PLAN_DIR,
                    read_only: true,
                },
                VolumeMount {
                    name: "results",
                    mount_path: RESULTS_DIR,
                    read_only: false,
                },
            ],
        };
        let pod = PodSpec {
            restart_policy: "Never",
            automount_service_account_token: false,
            enable_service_links: false,
            security_context: PodSecurityContext {
                run_as_non_root: true,
                run_as_user: POD_USER,
                run_as_group: POD_USER,
            },
            topology_spread_constraints: vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: "kubernetes.io/hostname",
                when_unsatisfiable: "DoNotSchedule",
                label_selector: LabelSelector {
                    match_labels: labels.clone(),
                },
            }],
            containers: vec![container],
            volumes: vec![
                Volume {
                    name: "plan",
                    config_map: Some(ConfigMapVolume { name: name.clone() }),
                    empty_dir: None,
                },
                Volume {
                    name: "results",
                    config_map: None,
                    empty_dir: Some(EmptyDir {}),
                },
            ],
        };
        let job = Job {
            api_version: "batch/v1",
            kind: "Job",
            metadata: meta(),
            spec: JobSpec {
                completion_mode: "Indexed",
                completions: args.instances,
                parallelism: args.instances,
                backoff_limit_per_index: 0,
                template: PodTemplate {
                    metadata: ObjectMeta {
                        name: None,
                        namespace: None,
                        labels: labels.clone(),
                    },
                    spec: pod,
                },
            },
        };
        let summary = format!(
            "# vayu k8s render: {key} split across {} pods (Job {name}), starting at {start_at}.\n\
             # Apply before then (a pod that starts later exits 2); then see deploy/kubernetes/README.md:\n\
             # kubectl{namespace} logs -l job-name={name} --tail=-1 --prefix | vayu k8s collect --out-dir DIR\n",
            args.instances,
            namespace = args
                .namespace
                .as_ref()
                .map_or(String::new(), |ns| format!(" -n {ns}")),
        );
        Manifests {
            config_map,
            job,
            summary,
        }
    }

    /// The YAML stream: a comment, then one document per object.
    fn to_yaml(&self) -> Result<String, yaml_serde::Error> {
        Ok(format!(
            "{}---\n{}---\n{}",
            self.summary,
            yaml_serde::to_string(&self.config_map)?,
            yaml_serde::to_string(&self.job)?
        ))
    }
}

/// What the pod runs: its instance of the test, then its result file (gzipped, base64)
/// between markers on stdout. A threshold failed on the instance's share alone (exit 99) is no failure of the
/// pod: `vayu merge` judges thresholds on the whole test.
fn pod_script(key: &str, instances: u32, start_at: &str, report_to: Option<&str>) -> String {
    let index = "$JOB_COMPLETION_INDEX";
    let report = report_to.map_or(String::new(), |url| format!(" --report-to '{url}'"));
    format!(
        "set -u\n\
         vayu run {PLAN_DIR}/{key} --instance \"{index}\" --instances {instances} --start-at {start_at}{report} --out {RESULTS_DIR}/part.json -q\n\
         code=$?\n\
         if [ -s {RESULTS_DIR}/part.json ]; then\n\
         \x20 echo \"{begin}\"\n\
         \x20 gzip -c {RESULTS_DIR}/part.json | base64\n\
         \x20 echo \"{end}\"\n\
         fi\n\
         # 99: a threshold failed on this instance's share; vayu merge judges the whole test.\n\
         if [ \"$code\" -eq 99 ]; then exit 0; fi\n\
         exit \"$code\"\n",
        begin = begin_marker(index),
        end = end_marker(index),
    )
}

/// `vayu-` and the plan file's name, made a DNS label (lower case, `-` for anything else).
fn default_name(plan: &Path) -> String {
    let stem = plan
        .file_stem()
        .map(|stem| stem.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mut name = "vayu".to_owned();
    for part in stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
    {
        name.push('-');
        name.push_str(part);
    }
    name.truncate(63);
    name.trim_end_matches('-').to_owned()
}

/// The plan's key in the ConfigMap (its file name in the pod): the file's own name when
/// Kubernetes allows it as a key, else `plan.json` or `plan.toml`.
fn config_map_key(plan: &Path) -> String {
    let file_name = plan
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let valid = !file_name.is_empty()
        && file_name.len() <= 253
        && file_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        return file_name;
    }
    let toml = plan
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    if toml { "plan.toml" } else { "plan.json" }.to_owned()
}

fn parse_plan_path(raw: &str) -> Result<PathBuf, String> {
    let lower = raw.to_ascii_lowercase();
    if lower.ends_with(".json") || lower.ends_with(".toml") {
        Ok(raw.into())
    } else {
        Err("expected a run plan file (.json or .toml)".to_owned())
    }
}

fn parse_instances(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(n) if n >= 2 => Ok(n),
        Ok(_) => Err(
            "a split test needs at least 2 instances (for one pod, run `vayu run PLAN` in it)"
                .to_owned(),
        ),
        Err(_) => Err("expected a number of pods".to_owned()),
    }
}

/// A daemon's base URL, as `vayu run --report-to` takes it (it goes into the pods' shell
/// script between single quotes, so it may hold none).
fn parse_report_to(raw: &str) -> Result<String, String> {
    let url = crate::cli::client::parse_base(raw, "--report-to")?;
    let text = url.as_str().trim_end_matches('/').to_owned();
    if text.contains('\'') {
        return Err("a URL with a single quote cannot go into the pods' script".to_owned());
    }
    Ok(text)
}

fn parse_image(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.chars().any(char::is_whitespace) {
        Err("expected an image reference such as registry.example/vayu:0.1.0".to_owned())
    } else {
        Ok(raw.to_owned())
    }
}

/// A DNS label (RFC 1123), as Kubernetes wants for namespaces and Job names.
fn parse_dns_label(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let valid = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| inner(b) || *b == b'-')
        && bytes.first().is_some_and(inner)
        && bytes.last().is_some_and(inner);
    if valid {
        Ok(raw.to_owned())
    } else {
        Err("expected a DNS label: at most 63 of a-z, 0-9 and '-', starting and ending with a letter or digit".to_owned())
    }
}

/// A positive Kubernetes quantity in plain decimal form: `1`, `0.5`, `1500m`, `512Mi`, `2G`.
fn parse_quantity(raw: &str) -> Result<String, String> {
    const SUFFIXES: [&str; 15] = [
        "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E",
    ];
    let number = SUFFIXES
        .iter()
        .find_map(|suffix| raw.strip_suffix(suffix))
        .unwrap_or(raw);
    let digits = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.matches('.').count() <= 1;
    match number.parse::<f64>() {
        Ok(value) if digits && value > 0.0 => Ok(raw.to_owned()),
        _ => Err("expected a positive Kubernetes quantity such as 2, 1500m, 512Mi".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keys_and_quantities() {
        assert_eq!(
            default_name(Path::new("dir/My Plan_v2.json")),
            "vayu-my-plan-v2"
        );
        assert_eq!(default_name(Path::new("+++.toml")), "vayu");
        assert_eq!(config_map_key(Path::new("a/smoke-1.toml")), "smoke-1.toml");
        assert_eq!(config_map_key(Path::new("a/my plan.TOML")), "plan.toml");
        assert!(parse_dns_label("load-1").is_ok());
        for bad in ["", "-a", "a-", "Load", "a_b", &"a".repeat(64)] {
            assert!(parse_dns_label(bad).is_err(), "{bad}");
        }
        for good in ["1", "0.5", "1500m", "512Mi", "2G", "1E"] {
            assert!(parse_quantity(good).is_ok(), "{good}");
        }
        for bad in ["", "0", "-1", "1.2.3", "Mi", "1 Gi", "1Zi", "1e3"] {
            assert!(parse_quantity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_pods_report_to_the_daemon_when_asked() {
        let url = parse_report_to("http://vayu.load:9876/").unwrap();
        let script = pod_script("p.json", 2, "2026-12-02T10:00:00Z", Some(&url));
        assert!(
            script.contains(
                "--start-at 2026-12-02T10:00:00Z --report-to 'http://vayu.load:9876' --out"
            ),
            "{script}"
        );
        assert!(!pod_script("p.json", 2, "x", None).contains("--report-to"));
        for bad in ["vayu:9876", "https://vayu", "http://h/'x"] {
            assert!(parse_report_to(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_start_is_rounded_up_to_the_second() {
        let at = UNIX_EPOCH + Duration::from_millis(1_796_205_600_001);
        assert_eq!(start_time(at).as_deref(), Ok("2026-12-02T10:00:01Z"));
        let whole = UNIX_EPOCH + Duration::from_secs(1_796_205_600);
        assert_eq!(start_time(whole).as_deref(), Ok("2026-12-02T10:00:00Z"));
    }
}
