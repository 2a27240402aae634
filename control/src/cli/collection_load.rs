//! `vayu run COLLECTION.json --vus N -z D [-e ENV.json]`: a Postman collection file run as
//! load, as `POST /run` runs a stored one with `collectionId` ([`crate::runs::collection`]):
//! one scenario of its requests in the collection runner's order per virtual user, each
//! request's test scripts on `--test-sample-rate` % of its responses (every response of a
//! request whose script sets variables). The load comes from the flags; file bodies are
//! read relative to the current directory, as `vayu collection run` reads them.

use std::path::Path;
use vayu_engine::script::Scope;

use serde_json::Value;
use vayu_engine::load_test::TestPlan;
use vayu_engine::{RunPlan, Targets, ValidPlan};

use super::collection::read_json;
use super::RunArgs;
use crate::postman::convert::Files;
use crate::postman::model::{self, Collection};
use crate::runs::collection::{apply_local_credentials, CollectionRun};

/// The plan of collection `doc` (read from `path`) under the flags' load.
pub fn plan(path: &Path, doc: Value, args: &RunArgs) -> Result<ValidPlan, String> {
    let shown = path.display();
    let own = [
        ("-m/--method", args.message.method.is_some()),
        ("-d/--body", args.message.body.is_some()),
        ("-D/--body-file", args.message.body_file.is_some()),
    ];
    if let Some((flag, _)) = own.iter().find(|(_, given)| *given) {
        return Err(format!(
            "{flag} cannot be combined with a collection ({shown}): its requests have their own"
        ));
    }
    let collection = Collection::parse(doc).map_err(|err| format!("{shown}: {err}"))?;
    let environment = match &args.environment {
        Some(file) => model::variable_file(read_json(file)?)
            .map_err(|err| format!("{}: {err}", file.display()))?
            .values
            .iter()
            .filter(|variable| variable.is_enabled() && !variable.key.is_empty())
            .map(|variable| (variable.key.clone(), variable.text()))
            .collect(),
        None => Scope::new(),
    };
    let working_dir =
        std::env::current_dir().map_err(|err| format!("no current directory: {err}"))?;
    let run = CollectionRun::file(
        &collection,
        Files::From(&working_dir),
        environment,
        Scope::new(),
    )
    .map_err(|reason| format!("{shown}: {reason}"))?;
    for note in &run.load.notes {
        eprintln!("warning: {}: {}: {}", note.path, note.part, note.reason);
    }
    let prepared = run
        .prepare()
        .map_err(|err| format!("{shown}: {}", err.message))?;
    let mut prepared =
        apply_local_credentials(prepared).map_err(|err| format!("{shown}: {err}"))?;
    let headers = args.headers()?;
    for request in &mut prepared {
        request.headers.extend(headers.iter().cloned());
    }
    let scenario = run.scenario(prepared, &args.expect_status);
    let mut plan = RunPlan::new(Targets::Scenarios(vec![scenario.clone()]), args.load()?);
    args.apply_settings(&mut plan)?;
    let base = TestPlan::new(String::new(), args.test_sample_rate.unwrap_or(100.0));
    plan.tests = run
        .tests(&scenario, base)
        .map_err(|err| format!("{shown}: {err}"))?;
    plan.validate()
        .map_err(|err| format!("{shown}: invalid run: {err}"))
}
