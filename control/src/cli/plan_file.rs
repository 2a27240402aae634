//! `vayu run plan.json|plan.toml`: a run plan file holding the same body as `POST /run`,
//! read with the same parser (a Postman collection file goes to
//! [`super::collection_load`]). Errors name the file, the line and the field; load flags on
//! the command line conflict with the file's load and are refused.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use vayu_engine::ValidPlan;

use super::RunArgs;
use crate::field::FieldError;
use crate::runs::body::{Defaults, RunBody};
use crate::runs::error::BodyError;
use crate::runs::prepare::Requests;
use crate::runs::resolve;

/// Builds the plan from a file; headers (on every request), thresholds and switches from
/// the command line apply. Validated once, with the flags applied: errors name the file,
/// the line and the field.
pub fn load(path: &Path, args: &RunArgs) -> Result<ValidPlan, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read plan file {shown}: {err}"))?;
    let is_toml = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("toml"));
    if !is_toml {
        if let Ok(doc) = serde_json::from_str::<Value>(&text) {
            if crate::postman::model::is_collection(&doc) {
                return super::collection_load::plan(path, doc, args);
            }
        }
    }
    args.refuse_collection_flags()?;
    let flags = [
        ("-n/--requests", args.requests.is_some()),
        ("-c/--connections", args.connections.is_some()),
        ("-z/--duration", args.duration.is_some()),
        ("--rps", args.rps.is_some()),
        ("--ramp-up", args.ramp_up.is_some()),
        ("--max-in-flight", args.max_in_flight.is_some()),
        ("-m/--method", args.message.method.is_some()),
        ("-d/--body", args.message.body.is_some()),
        ("-D/--body-file", args.message.body_file.is_some()),
    ];
    if let Some((flag, _)) = flags.iter().find(|(_, given)| *given) {
        return Err(format!(
            "{flag} cannot be combined with a plan file ({shown}): the load comes from the file"
        ));
    }
    let body: Value = if is_toml {
        toml::from_str(&text).map_err(|err| {
            let line = err.span().map_or(0, |span| line_at(&text, span.start));
            format!("{shown}:{line}: {}", err.message())
        })?
    } else {
        serde_json::from_str(&text)
            .map_err(|err| format!("{shown}:{}:{}: {err}", err.line(), err.column()))?
    };
    let at = |err: BodyError| {
        format!(
            "{shown}:{}: {err}",
            line_of_field(&text, err.field(), is_toml)
        )
    };
    // TOML refuses a key given twice itself; JSON text needs the check.
    if !is_toml {
        crate::input::strict::no_repeated_keys(text.as_bytes()).map_err(|err| at(err.into()))?;
    }
    let parsed = RunBody::parse(&body).map_err(|err| at(err.into()))?;
    if parsed.options.request_id.is_some()
        || parsed.options.environment_id.is_some()
        || parsed.options.collection_id.is_some()
    {
        return Err(format!(
            "{shown}: requestId, environmentId and collectionId name saved items of the daemon; run this plan with POST /run on `vayu serve` (or a collection file with `vayu run COLLECTION.json`)"
        ));
    }
    let resolved = resolve::standalone(&parsed).map_err(|err| at(err.into()))?;
    let mut requests = Requests::prepare(&parsed, resolved.main.as_ref(), &resolved.scopes)
        .map_err(|err| at(err.into()))?;
    if let Some(auth) = &requests.auth {
        // No design thread here: OAuth2 grants need the daemon.
        let credentials = auth.local_credentials().unwrap_or_else(|| {
            Err(crate::auth::AuthError(
                "OAuth2 needs the daemon: run this plan with POST /run on `vayu serve`".to_owned(),
            ))
        });
        let credentials = credentials.map_err(|err| at(FieldError::new("auth", err.0).into()))?;
        requests = requests.with_credentials(&credentials);
    }
    let defaults = Defaults {
        // The plan's own, else this; `--timeout` replaces either below.
        timeout: super::DEFAULT_TIMEOUT,
        tick_interval: Duration::from_millis(100),
        workers: vayu_engine::plan::default_workers(),
        // No daemon settings here: only the engine's own bound applies.
        max_connections: vayu_engine::plan::MAX_CONCURRENCY,
    };
    let mut plan = requests.plan(&parsed, None, defaults).map_err(at)?;
    // Flags win over the file (as k6's do over script options).
    if let Some(workers) = args.workers {
        plan.workers = usize::from(workers);
    }
    if let Some(timeout) = args.timeout {
        plan.timeout = timeout;
    }
    plan.connect_timeout = args
        .connect_timeout
        .unwrap_or(super::DEFAULT_CONNECT_TIMEOUT)
        .min(plan.timeout);
    let headers = args.headers()?;
    for request in plan.requests_mut() {
        let twice = headers.iter().find(|(name, _)| {
            request
                .headers
                .iter()
                .any(|(given, _)| given.eq_ignore_ascii_case(name))
        });
        if let Some((name, _)) = twice {
            return Err(format!(
                "{shown}: the plan already sets {name}; a flag (-H, -T, -A, -a) cannot set it again (the request would carry two)"
            ));
        }
        request.headers.extend(headers.iter().cloned());
    }
    plan.thresholds.extend(args.thresholds.iter().cloned());
    plan.insecure |= args.insecure;
    plan.tls = args.tls.plan_files()?;
    plan.timing_breakdown |= args.timing_breakdown;
    if !args.expect_status.is_empty() {
        plan.expected_status.codes = args.expect_status.clone();
    }
    args.apply_segment(&mut plan);
    plan.validate().map_err(|err| at(err.into()))
}

/// 1-based line of byte `offset`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `field` (its last path segment) is written: `"name":` in JSON, `name =`
/// in TOML; 1 when it is not written (a missing field).
fn line_of_field(text: &str, field: &str, is_toml: bool) -> usize {
    let name = field.rsplit('.').next().unwrap_or(field);
    let name = name.split(['{', '[']).next().unwrap_or(name);
    let found = text.lines().position(|line| {
        let line = line.trim_start();
        if is_toml {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
                || line.starts_with(&format!("[{name}]"))
        } else {
            let quoted = format!("\"{name}\"");
            line.match_indices(&quoted)
                .any(|(at, _)| line[at + quoted.len()..].trim_start().starts_with(':'))
        }
    });
    found.map_or(1, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_of_a_field() {
        let json =
            "{\n  \"url\": \"http://x/\",\n  \"mode\": \"iterations\",\n  \"iterations\": 0\n}";
        assert_eq!(line_of_field(json, "iterations", false), 4);
        let toml = "url = \"http://x/\"\nmode = \"iterations\"\n\n[thresholds]\nhttp_req_duration = [\"p(95)<x\"]";
        assert_eq!(line_of_field(toml, "thresholds.http_req_duration", true), 5);
        assert_eq!(line_of_field(toml, "mode", true), 2);
        assert_eq!(line_of_field(toml, "absent", true), 1);
    }
}
