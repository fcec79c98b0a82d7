//! Kubernetes Events about a pipeline (events.k8s.io/v1), folded into a series only when they say
//! the same thing.
//!
//! kube's `Recorder` keys its series by (type, reason, action, regarding) and keeps the *first*
//! note: after a second invalid edit its Warning still named the first field, and `Applied` said
//! "generation 1" five times (issue 15, item 4). Here the note is part of the key, so a repeat of
//! the same message bumps `series.count` while a new message is a new Event that says what
//! happened this time. Everything else follows the Recorder (names, namespace, series patch).

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

/// How long an Event stays open for repeats (the Recorder's value).
const SERIES_TTL: SignedDuration = SignedDuration::from_mins(6);
/// The API server refuses longer notes.
const NOTE_MAX: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// What makes two Events "the same": the series key of the Recorder plus the note.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    regarding: (Option<String>, Option<String>, Option<String>),
    type_: EventType,
    reason: String,
    action: String,
    note: String,
}

#[derive(Clone, Debug)]
struct Open {
    name: String,
    count: i32,
    last: Timestamp,
}

pub struct Publisher {
    client: Client,
    controller: String,
    instance: String,
    open: Mutex<HashMap<Key, Open>>,
}

impl Publisher {
    /// `instance` defaults to the controller name (as the Recorder does without a pod name).
    pub fn new(client: Client, controller: &str, instance: Option<String>) -> Self {
        Self {
            client,
            controller: controller.to_string(),
            instance: instance.unwrap_or_else(|| controller.to_string()),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Create an Event, or count a repeat of an identical one still open.
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        type_: EventType,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), kube::Error> {
        let note = truncate(note, NOTE_MAX);
        let now = Timestamp::now();
        let key = Key {
            regarding: (
                regarding.kind.clone(),
                regarding.name.clone(),
                regarding.uid.clone(),
            ),
            type_,
            reason: reason.to_string(),
            action: action.to_string(),
            note: note.clone(),
        };
        let repeat = {
            let mut open = self.open.lock().expect("not poisoned");
            open.retain(|_, e| e.last + SERIES_TTL > now);
            open.get(&key).cloned()
        };
        let namespace = regarding.namespace.as_deref().unwrap_or("default");
        let events: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let stored = match repeat {
            Some(mut e) => {
                // A repeat: the Event keeps its note, its series says how often and when last.
                e.count = e.count.max(1) + 1;
                e.last = now;
                let series = json!({"series": EventSeries {
                    count: e.count,
                    last_observed_time: MicroTime(now),
                }});
                events
                    .patch(&e.name, &PatchParams::default(), &Patch::Merge(&series))
                    .await?;
                e
            }
            None => {
                let name = format!(
                    "{}.{:x}",
                    regarding.name.as_deref().unwrap_or(&self.controller),
                    now.as_nanosecond()
                );
                let event = Event {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(namespace.to_string()),
                        ..Default::default()
                    },
                    action: Some(action.to_string()),
                    reason: Some(reason.to_string()),
                    note: Some(note),
                    event_time: Some(MicroTime(now)),
                    regarding: Some(regarding.clone()),
                    reporting_controller: Some(self.controller.clone()),
                    reporting_instance: Some(self.instance.clone()),
                    type_: Some(type_.as_str().to_string()),
                    ..Default::default()
                };
                events.create(&PostParams::default(), &event).await?;
                Open {
                    name,
                    count: 1,
                    last: now,
                }
            }
        };
        self.open.lock().expect("not poisoned").insert(key, stored);
        Ok(())
    }
}

/// At most `max` bytes, cut on a character boundary.
fn truncate(note: &str, max: usize) -> String {
    let mut end = note.len().min(max);
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    note[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn notes_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("añb", 2), "a");
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate(&"x".repeat(1200), 1000).len(), 1000);
    }
}
