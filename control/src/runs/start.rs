//! Starting a load run from a `POST /run` body: decode and check it ([`super::body`]),
//! resolve it against the store ([`super::resolve`], or [`super::collection`] for a
//! `collectionId`), prepare every request with the run's variables
//! ([`super::prepare`]), apply its auth for the whole run (an OAuth2 token kept
//! fresh while it runs), build the plan and launch it ([`super::launch`]). Nothing here knows
//! HTTP: failures are a [`StartError`], mapped to status codes in `api/error.rs`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use vayu_engine::plan::LiveHeader;

use super::body::{Defaults, RunBody};
use super::collection::{self, CollectionRun};
use super::error::BodyError;
use super::launch::{launch, Launch};
use super::prepare::Requests;
use super::resolve;
use super::{Context, RunConfig};
use crate::auth::{Auth, AuthError};
use crate::design::exchange;
use crate::ids::{new_id, now_ms};
use crate::records::{RunRecord, RunStatus, RunType};

/// Starts the run `body` describes; returns its id. Nothing is sent or stored when the body
/// is refused (a test script that does not compile included).
pub async fn start(context: &Context, body: &Value) -> Result<String, StartError> {
    start_from(context, body, None).await
}

/// [`start`] for a body translated from another API's: `source` is what that API's client
/// wrote, kept with the run.
pub async fn start_from(
    context: &Context,
    body: &Value,
    source: Option<Value>,
) -> Result<String, StartError> {
    let origin = Origin {
        source,
        ..Origin::default()
    };
    start_as(context, body, origin).await
}

/// Where a run came from besides its body, kept with its record.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// What another API's client wrote (ATM's `spec`).
    pub source: Option<Value>,
    /// The saved plan whose body it is.
    pub plan_id: Option<String>,
    /// The schedule that fired it.
    pub schedule_id: Option<String>,
}

/// Checks `body` as [`start`] does, up to the validated plan, and starts nothing: for
/// bodies saved to run later (`POST /plans`). Auth is not applied (an OAuth2 token is
/// fetched when a run starts).
pub fn check(context: &Context, body: &Value) -> Result<(), StartError> {
    let parsed = RunBody::parse(body).map_err(BodyError::from)?;
    let plan = match parsed.options.collection_id.as_deref() {
        Some(id) => {
            let run = CollectionRun::stored(&context.store, &parsed, id)?;
            let prepared = run.prepare().map_err(BodyError::from)?;
            run.plan(&parsed, prepared, defaults(&context.config))?
        }
        None => {
            let resolved = resolve::resolve(&context.store, &parsed)?;
            let requests = Requests::prepare(&parsed, resolved.main.as_ref(), &resolved.scopes)
                .map_err(BodyError::from)?;
            requests.plan(&parsed, resolved.saved_tests, defaults(&context.config))?
        }
    };
    plan.validate().map_err(BodyError::from)?;
    Ok(())
}

/// The run defaults of the daemon's configuration.
fn defaults(config: &RunConfig) -> Defaults {
    Defaults {
        timeout: config.default_timeout,
        tick_interval: config.live_tick_interval,
        // Precedence: the body's `workers`, else the setting (which defaults to --workers).
        workers: config.workers,
        max_connections: config.max_connections,
    }
}

/// [`start`] with where the run came from.
pub async fn start_as(
    context: &Context,
    body: &Value,
    origin: Origin,
) -> Result<String, StartError> {
    let parsed = RunBody::parse(body).map_err(BodyError::from)?;
    let config = context.config;
    let (plan, scopes, refresher) = match parsed.options.collection_id.as_deref() {
        Some(id) => {
            let run = CollectionRun::stored(&context.store, &parsed, id)?;
            let prepared = run.prepare().map_err(BodyError::from)?;
            let options = token_options(parsed.insecure, &config);
            let prepared = collection::apply_credentials(prepared, |auth| {
                let options = options.clone();
                async move {
                    context
                        .design
                        .credentials(auth, options)
                        .await
                        .map_err(|_| AuthError("the design thread has stopped".to_owned()))?
                }
            })
            .await
            .map_err(StartError::Auth)?;
            let plan = run.plan(&parsed, prepared, defaults(&config))?;
            (plan, run.scopes, None)
        }
        None => {
            let resolved = resolve::resolve(&context.store, &parsed)?;
            let requests = Requests::prepare(&parsed, resolved.main.as_ref(), &resolved.scopes)
                .map_err(BodyError::from)?;
            // The auth's secrets are masked wherever the run is shown, like secret variables.
            let mut scopes = resolved.scopes;
            scopes
                .secrets
                .extend(requests.auth.iter().flat_map(Auth::secrets));
            let (requests, refresh) =
                authorize(context, requests, parsed.insecure, &config).await?;
            let mut plan = requests.plan(&parsed, resolved.saved_tests, defaults(&config))?;
            let refresher = refresh
                .and_then(|refresh| live_authorization(&mut plan).map(|header| (refresh, header)));
            (plan, scopes, refresher)
        }
    };
    let plan = plan.validate().map_err(BodyError::from)?;
    let id = new_id("run");
    let options = parsed.options;
    let record = RunRecord {
        id: id.clone(),
        request_id: options.request_id,
        environment_id: options.environment_id,
        run_type: RunType::Load,
        status: RunStatus::Pending,
        config_snapshot: scopes.mask(&body.to_string()),
        start_time: now_ms(),
        end_time: None,
        comment: options.comment,
        failure_reason: None,
        name: options.name,
        description: options.description,
        source: origin.source,
        plan_id: origin.plan_id,
        schedule_id: origin.schedule_id,
    };
    launch(
        Arc::clone(&context.store),
        &context.registry,
        Launch {
            record,
            plan,
            scopes,
            retention: config.live_retention,
        },
    )
    .await?;
    if let Some((refresh, header)) = refresher {
        tokio::spawn(keep_token_fresh(
            context.clone(),
            id.clone(),
            refresh,
            header,
        ));
    }
    Ok(id)
}

/// Why `POST /run` did not start a run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Body(#[from] BodyError),
    /// A saved request or environment the body names does not exist (or the merged
    /// request is unusable).
    #[error("{0:?}")]
    Resolve(crate::input::saved::ResolveError),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// The run's auth failed (the OAuth2 token endpoint, a JWT that cannot be signed).
    #[error("{0}")]
    Auth(crate::auth::AuthError),
    /// The design thread, which fetches OAuth2 tokens, has stopped.
    #[error("the design thread has stopped")]
    DesignGone,
    #[error("{0}")]
    Launch(#[from] super::launch::LaunchError),
}

impl From<crate::input::saved::ResolveError> for StartError {
    fn from(err: crate::input::saved::ResolveError) -> Self {
        StartError::Resolve(err)
    }
}

/// An OAuth2 grant whose token a run must keep fresh.
struct Refresh {
    auth: Auth,
    options: exchange::Options,
}

/// How often a run's OAuth2 token is checked; the design thread's cache fetches a new one
/// shortly before the old one expires.
const TOKEN_CHECK: Duration = Duration::from_secs(1);

/// Applies the run's auth to every request for the whole run: an OAuth2 token is fetched
/// (on the design thread) and kept fresh by [`keep_token_fresh`], a JWT minted once.
async fn authorize(
    context: &Context,
    requests: Requests,
    insecure: bool,
    config: &RunConfig,
) -> Result<(Requests, Option<Refresh>), StartError> {
    let Some(auth) = requests.auth.clone() else {
        return Ok((requests, None));
    };
    let options = token_options(insecure, config);
    let refresh = matches!(auth, Auth::OAuth2(_)).then(|| Refresh {
        auth: auth.clone(),
        options: options.clone(),
    });
    let credentials = context
        .design
        .credentials(auth, options)
        .await
        .map_err(|_| StartError::DesignGone)?
        .map_err(StartError::Auth)?;
    Ok((requests.with_credentials(&credentials), refresh))
}

/// How the design thread reaches an OAuth2 token endpoint for a load run.
fn token_options(insecure: bool, config: &RunConfig) -> exchange::Options {
    exchange::Options {
        timeout: config.default_timeout,
        follow_redirects: false,
        max_redirects: 0,
        insecure,
        redirects: exchange::RedirectRules::default(),
        tls: None,
        system_headers: exchange::SystemHeaders::Vayu,
    }
}

/// Moves the `Authorization` header of every request of the plan into one live header, so
/// that a refreshed token reaches the next requests of every shard.
fn live_authorization(plan: &mut vayu_engine::RunPlan) -> Option<LiveHeader> {
    let mut live: Option<LiveHeader> = None;
    for spec in plan.requests_mut() {
        let Some(at) = spec
            .headers
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        else {
            continue;
        };
        let (name, value) = spec.headers.remove(at);
        let header = live.get_or_insert_with(|| LiveHeader::new(&name, value));
        spec.live_headers.push(header.clone());
    }
    live
}

/// Checks the run's token every [`TOKEN_CHECK`] until the run ends, swapping in a new one
/// when the design thread's cache fetched it.
async fn keep_token_fresh(context: Context, run_id: String, refresh: Refresh, header: LiveHeader) {
    loop {
        tokio::time::sleep(TOKEN_CHECK).await;
        if context
            .registry
            .get(&run_id)
            .is_none_or(|live| live.is_finished())
        {
            return;
        }
        let credentials = context
            .design
            .credentials(refresh.auth.clone(), refresh.options.clone())
            .await;
        match credentials {
            Ok(Ok(credentials)) => {
                let fresh = credentials
                    .headers
                    .into_iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&header.name));
                if let Some((_, value)) = fresh {
                    header.set(value);
                }
            }
            // The design thread is gone (shutdown) or the endpoint failed: keep the old token.
            Ok(Err(err)) => tracing::warn!("run {run_id}: token refresh failed: {err}"),
            Err(_) => return,
        }
    }
}
