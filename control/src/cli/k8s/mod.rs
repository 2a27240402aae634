//! `vayu k8s`: a split test (`--instances`) as a Kubernetes Indexed Job. `render` prints
//! the manifests (a ConfigMap with the plan, the Job whose pod I runs instance I and prints
//! its result between markers); `collect` turns the pods' `kubectl logs` back into the files
//! `vayu merge` reads. See `deploy/kubernetes/README.md`.

pub mod collect;
pub mod manifest;
pub mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum K8sCommand {
    /// Print the manifests (YAML) that run PLAN as an Indexed Job of N pods, one instance
    /// each, sharing a start time: `vayu k8s render plan.json --instances 4 --image IMAGE |
    /// kubectl apply -f -`.
    Render(render::RenderArgs),
    /// Write each instance's result found in `kubectl logs` output (`kubectl logs -l
    /// job-name=NAME --tail=-1 --prefix`) to DIR/part-I.json, for `vayu merge`.
    Collect(collect::CollectArgs),
}

pub fn execute(command: K8sCommand) -> ExitCode {
    match command {
        K8sCommand::Render(args) => render::execute(&args),
        K8sCommand::Collect(args) => collect::execute(&args),
    }
}

/// The line a pod prints before instance `instance`'s result file, gzipped and in base64
/// (a long run's ticks make a large file; `kubectl logs` reads only the kubelet's current
/// log file, 10 MiB by default). `vayu k8s collect` also reads a plain JSON result after
/// `----- VAYU RESULT instance=I BEGIN -----`.
pub fn begin_marker(instance: &str) -> String {
    format!("----- VAYU RESULT instance={instance} BEGIN gzip+base64 -----")
}

/// The line a pod prints after instance `instance`'s result file.
pub fn end_marker(instance: &str) -> String {
    format!("----- VAYU RESULT instance={instance} END -----")
}

/// Writes `text` on stdout; a closed pipe (`… | head`) is no error.
fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
