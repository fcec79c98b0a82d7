//! One reconcile of a `BlackFridayPipeline`: validate → read inputs → build → apply → prune →
//! status. Failures of single children are recorded and reported, the rest still applied.

pub mod apply;
pub mod conditions;
pub mod discovery;
pub mod inputs;
pub mod prune;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::{Api, Client, Resource, ResourceExt};
use serde_json::json;
use tracing::{info, warn};

use self::conditions::{Observations, Observed};
use crate::build::{desired, Desired};
use crate::crd::{BlackFridayPipeline, BlackFridayPipelineStatus};
use crate::error::{Error, Result};
use crate::events::{EventType, Publisher};
use crate::kinds::ChildKind;
use crate::metrics::Metrics;
use crate::names;
use crate::scope::{self, Scope};
use crate::validate::{validate, FieldError, InvalidSpec, ValidPipeline};

/// Resync when everything is ready (a safety net; child watches do the real work).
pub const RESYNC_READY: Duration = Duration::from_secs(300);
/// Resync while something is converging or an add-on is missing (picks up late installs).
pub const RESYNC_CONVERGING: Duration = Duration::from_secs(30);

/// Whether a healthy reconcile asks to be run again after `RESYNC_*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resync {
    /// The default: a safety net behind the watches, and how late add-on installs are noticed.
    Periodic,
    /// Only watch events (and error retries) reconcile: the cluster tests use it so that a
    /// behaviour that must come from a watch cannot pass because of a timer.
    Off,
}

pub struct Context {
    pub client: Client,
    /// The namespaces the install granted: what is watched, written and pruned.
    pub scope: Scope,
    pub events: Publisher,
    pub metrics: Arc<Metrics>,
    pub resync: Resync,
    /// Consecutive failures per pipeline uid, for exponential backoff.
    pub failures: Mutex<HashMap<String, u32>>,
    /// Pipelines being reconciled right now; a second reconcile of one of them is an overlap.
    pub in_flight: Mutex<HashSet<String>>,
}

impl Context {
    pub fn new(
        client: Client,
        scope: Scope,
        events: Publisher,
        metrics: Arc<Metrics>,
        resync: Resync,
    ) -> Self {
        Self {
            client,
            scope,
            events,
            metrics,
            resync,
            failures: Mutex::default(),
            in_flight: Mutex::default(),
        }
    }

    fn requeue(&self, after: Duration) -> Action {
        match self.resync {
            Resync::Periodic => Action::requeue(after),
            Resync::Off => Action::await_change(),
        }
    }
}

/// Marks one pipeline as being reconciled for as long as it lives. The controller runs one
/// reconcile per key at a time and every trigger maps to the one key of its pipeline
/// (`run::pipeline_of`), so two at once mean two keys for one object: the defect that wrote two
/// Valkey passwords at creation (issue 15, item 3). Counted, so tests and alerts see it.
struct InFlight<'a> {
    ctx: &'a Context,
    name: String,
}

impl<'a> InFlight<'a> {
    fn enter(ctx: &'a Context, name: String) -> Self {
        if !ctx
            .in_flight
            .lock()
            .expect("not poisoned")
            .insert(name.clone())
        {
            warn!(pipeline = %name, "a reconcile of this pipeline is already running");
            ctx.metrics.count_overlap();
        }
        Self { ctx, name }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.ctx
            .in_flight
            .lock()
            .expect("not poisoned")
            .remove(&self.name);
    }
}

/// The watch delivers `DeserializeGuard`s, so one object that does not fit our types (e.g. left
/// by an older CRD) is reported on itself instead of breaking the watch for every pipeline.
pub async fn reconcile(
    guard: Arc<DeserializeGuard<BlackFridayPipeline>>,
    ctx: Arc<Context>,
) -> Result<Action> {
    let started = Instant::now();
    let _in_flight = InFlight::enter(&ctx, guard.name_any());
    let pipeline = match &guard.0 {
        Ok(pipeline) => pipeline,
        Err(invalid) => {
            let reference = ObjectReference {
                api_version: Some(BlackFridayPipeline::api_version(&()).into_owned()),
                kind: Some(BlackFridayPipeline::kind(&()).into_owned()),
                name: invalid.metadata.name.clone(),
                uid: invalid.metadata.uid.clone(),
                ..Default::default()
            };
            let note = format!(
                "the object does not match blackfriday.dev/v1alpha1: {}",
                invalid.error
            );
            publish_to(
                &ctx,
                &reference,
                EventType::Warning,
                "UnreadableObject",
                "Read",
                &note,
            )
            .await;
            warn!(pipeline = ?invalid.metadata.name, error = %invalid.error, "unreadable pipeline");
            ctx.metrics
                .observe(started.elapsed(), Some("UnreadableObject"));
            return Ok(Action::await_change());
        }
    };
    let result = reconcile_inner(pipeline, &ctx).await;
    let failure = match &result {
        Ok(outcome) => outcome.refused,
        Err(error) => Some(error.reason()),
    };
    ctx.metrics.observe(started.elapsed(), failure);
    if result.is_ok() {
        ctx.failures
            .lock()
            .expect("not poisoned")
            .remove(&pipeline.uid().unwrap_or_default());
    }
    result.map(|outcome| outcome.action)
}

/// What one reconcile decided. `refused` is set when the spec was refused without an error to
/// retry (an invalid spec): it still counts as a failure in the metrics.
struct Outcome {
    action: Action,
    refused: Option<&'static str>,
}

impl From<Action> for Outcome {
    fn from(action: Action) -> Self {
        Self {
            action,
            refused: None,
        }
    }
}

/// Exponential backoff per pipeline: 1 s, 2 s, 4 s … capped at 5 minutes.
pub fn error_policy(
    pipeline: Arc<DeserializeGuard<BlackFridayPipeline>>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    let mut failures = ctx.failures.lock().expect("not poisoned");
    let count = failures
        .entry(pipeline.uid().unwrap_or_default())
        .or_insert(0);
    *count = count.saturating_add(1);
    let delay = Duration::from_secs(1u64 << (*count - 1).min(8)).min(Duration::from_secs(300));
    warn!(pipeline = %pipeline.name_any(), reason = error.reason(), error = %error, ?delay, "reconcile failed");
    Action::requeue(delay)
}

/// Delete the children the spec no longer wants; log and announce (Event) what went.
async fn prune_and_report(
    ctx: &Context,
    pipeline: &BlackFridayPipeline,
    valid: &ValidPipeline,
    want: &Desired,
    installed: &discovery::Installed,
) -> Result<()> {
    let keys = prune::prune(&ctx.client, &ctx.scope, valid, want, installed).await?;
    let deleted: Vec<String> = keys.iter().map(ToString::to_string).collect();
    if !deleted.is_empty() {
        info!(pipeline = %valid.name, ?deleted, "pruned children the spec no longer wants");
        publish(
            ctx,
            pipeline,
            EventType::Normal,
            "Pruned",
            "Prune",
            &format!("deleted {}", deleted.join(", ")),
        )
        .await;
    }
    Ok(())
}

async fn reconcile_inner(pipeline: &BlackFridayPipeline, ctx: &Context) -> Result<Outcome> {
    if pipeline.metadata.deletion_timestamp.is_some() {
        // Children carry ownerReferences: the garbage collector removes them.
        return Ok(Action::await_change().into());
    }
    let previous = pipeline.status.clone().unwrap_or_default();

    if pipeline.spec.paused {
        // Only Paused and Progressing change; every other condition keeps what it last said.
        write_status(ctx, pipeline, &previous, &conditions::paused(), None).await?;
        return Ok(ctx.requeue(RESYNC_READY).into());
    }

    let valid = match validate(pipeline) {
        Ok(valid) => valid,
        Err(invalid) => return refuse(ctx, pipeline, &previous, "InvalidSpec", &invalid).await,
    };
    // Namespaces the install did not grant: refused as a whole, before anything is applied.
    if let Err(outside) = in_scope(ctx, &valid).await? {
        return refuse(
            ctx,
            pipeline,
            &previous,
            scope::REASON,
            &InvalidSpec(outside),
        )
        .await;
    }

    let installed = discovery::installed(&ctx.client).await?;
    let read = inputs::read(&ctx.client, &valid).await?;
    let mut want = desired(&valid, &read.inputs);
    if read.password_generated {
        let password = read.inputs.valkey_password.as_deref().unwrap_or_default();
        inputs::create_password_secret(&ctx.client, &valid, &want, password).await?;
    }
    if read.pull_secret_missing {
        want.children
            .retain(|c| !(c.kind == ChildKind::Secret && c.name() == names::PULL_SECRET));
    }
    let deployable: Vec<_> = want
        .children
        .iter()
        .filter(|c| installed.serves(c.kind))
        .collect();

    let mut observations = Observations {
        installed: installed.clone(),
        pull_secret_missing: read.pull_secret_missing,
        valkey_password_missing: read.inputs.valkey_password_missing,
        ..Default::default()
    };
    let first_error = apply::apply_all(&ctx.client, deployable, &mut observations).await;

    // Only prune after a clean apply, so a half-applied spec never deletes what it still needs.
    if first_error.is_none() {
        prune_and_report(ctx, pipeline, &valid, &want, &installed).await?;
    }

    let components = conditions::components(&valid, &observations);
    let mut observed = conditions::summary(&components, false);
    observed.extend(components);
    let all_ready = observed
        .iter()
        .find(|c| c.type_ == conditions::READY)
        .is_some_and(|c| c.status);

    let generation_changed = previous.observed_generation != pipeline.metadata.generation;
    write_status(ctx, pipeline, &previous, &observed, Some(&valid)).await?;

    if let Some(error) = first_error {
        publish(
            ctx,
            pipeline,
            EventType::Warning,
            error.reason(),
            "Apply",
            &error.to_string(),
        )
        .await;
        return Err(error);
    }
    if generation_changed {
        publish(
            ctx,
            pipeline,
            EventType::Normal,
            "Applied",
            "Apply",
            &format!(
                "applied {} children for generation {}",
                observations.applied.len(),
                pipeline.metadata.generation.unwrap_or(0)
            ),
        )
        .await;
    }
    Ok(ctx
        .requeue(if all_ready {
            RESYNC_READY
        } else {
            RESYNC_CONVERGING
        })
        .into())
}

/// A spec the operator will not apply: a Warning Event and the conditions name every field, and
/// nothing is applied. Nothing to retry until the spec (or the install) changes; counted as a
/// failure all the same. A namespace refused because the install did not grant it is retried at
/// the converging resync, since granting it changes no watched object.
async fn refuse(
    ctx: &Context,
    pipeline: &BlackFridayPipeline,
    previous: &BlackFridayPipelineStatus,
    reason: &'static str,
    invalid: &InvalidSpec,
) -> Result<Outcome> {
    let message = invalid.to_string();
    publish(
        ctx,
        pipeline,
        EventType::Warning,
        reason,
        "Validate",
        &message,
    )
    .await;
    write_status(
        ctx,
        pipeline,
        previous,
        &conditions::invalid_spec(reason, &message),
        None,
    )
    .await?;
    let action = if reason == scope::REASON {
        ctx.requeue(RESYNC_CONVERGING)
    } else {
        Action::await_change()
    };
    Ok(Outcome {
        action,
        refused: Some(reason),
    })
}

/// The spec's namespaces are ones the install granted, and the tier namespaces it uses exist
/// (the installer creates them with the RoleBinding inside; the operator may not create them).
async fn in_scope(
    ctx: &Context,
    p: &ValidPipeline,
) -> Result<std::result::Result<(), Vec<FieldError>>> {
    if let Err(outside) = ctx.scope.check(p) {
        return Ok(Err(outside));
    }
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(ctx.client.clone());
    let mut missing = Vec::new();
    for (field, ns) in [
        ("spec.namespaces.ingest", Some(p.ns_ingest())),
        (
            "spec.namespaces.kafka",
            p.kafka_managed().then(|| p.ns_kafka()),
        ),
        (
            "spec.namespaces.valkey",
            p.valkey_managed().then(|| p.ns_valkey()),
        ),
    ] {
        let Some(ns) = ns else { continue };
        let found = namespaces.get_opt(ns).await.map_err(|source| Error::Read {
            what: format!("Namespace {ns}"),
            source,
        })?;
        if found.is_none_or(|n| n.metadata.deletion_timestamp.is_some()) {
            missing.push(FieldError {
                field: field.into(),
                message: format!(
                    "namespace {ns} does not exist (or is being deleted): the operator's install creates its tier namespaces (config/rbac/tier_namespaces.yaml, Helm value tierNamespaces)"
                ),
            });
        }
    }
    Ok(if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    })
}

/// Write status only when it differs, so an unchanged world causes no write and no new event.
async fn write_status(
    ctx: &Context,
    pipeline: &BlackFridayPipeline,
    previous: &BlackFridayPipelineStatus,
    observed: &[Observed],
    valid: Option<&ValidPipeline>,
) -> Result<()> {
    let generation = pipeline.metadata.generation;
    let conditions =
        conditions::to_conditions(observed, &previous.conditions, generation, Timestamp::now());
    let status = BlackFridayPipelineStatus {
        observed_generation: generation,
        conditions,
        writer_replicas: Some(
            pipeline.spec.grpc_server1.replicas + pipeline.spec.grpc_server2.replicas,
        ),
        kafka_bootstrap: valid
            .map(|v| v.kafka_bootstrap.clone())
            .or(previous.kafka_bootstrap.clone()),
        valkey_primary: valid
            .map(|v| v.valkey_primary_addr.clone())
            .or(previous.valkey_primary.clone()),
    };
    if &status == previous {
        return Ok(());
    }
    let api: Api<BlackFridayPipeline> = Api::all(ctx.client.clone());
    let patch = json!({
        "apiVersion": BlackFridayPipeline::api_version(&()),
        "kind": BlackFridayPipeline::kind(&()),
        "status": status,
    });
    api.patch_status(
        &pipeline.name_any(),
        &PatchParams::apply(names::MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(Error::Status)?;
    Ok(())
}

async fn publish(
    ctx: &Context,
    pipeline: &BlackFridayPipeline,
    type_: EventType,
    reason: &str,
    action: &str,
    note: &str,
) {
    publish_to(ctx, &pipeline.object_ref(&()), type_, reason, action, note).await
}

/// Events are best effort: a failure to record one must not fail the reconcile.
async fn publish_to(
    ctx: &Context,
    regarding: &ObjectReference,
    type_: EventType,
    reason: &str,
    action: &str,
    note: &str,
) {
    if let Err(e) = ctx
        .events
        .publish(regarding, type_, reason, action, note)
        .await
    {
        warn!(error = %e, reason, "could not publish an event");
    }
}
