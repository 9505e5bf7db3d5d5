//! The `/events` stream in the browser: badges change when the engine says so, without a
//! reload. The browser's `EventSource` reconnects by itself when the server restarts.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::model::SyncState;

/// The latest state the stream announced per service id, newer than the fetched list.
pub type LiveStates = RwSignal<HashMap<i64, SyncState>>;

/// After hydration, follow `/events`: `service_state` updates `states`, and `on_finished`
/// runs after each check cycle and each deploy (to refetch what they changed).
#[cfg(feature = "hydrate")]
pub fn follow_events(states: LiveStates, on_finished: impl Fn() + 'static) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    use crate::model::ServiceStateEvent;

    let on_finished = std::rc::Rc::new(on_finished);
    Effect::new(move |_| {
        let Ok(source) = EventSource::new("/events") else {
            leptos::logging::warn!("this browser cannot open /events: badges stay as loaded");
            return;
        };
        let on_state = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(data) = event.data().as_string() else {
                return;
            };
            match serde_json::from_slice::<ServiceStateEvent>(data.as_bytes()) {
                Ok(change) => states.update(|states| {
                    states.insert(change.service_id, change.state);
                }),
                Err(error) => leptos::logging::warn!("unreadable service_state event: {error}"),
            }
        });
        let refetch = on_finished.clone();
        let on_done = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| refetch());
        let listen = |name: &str, callback: &Closure<dyn FnMut(MessageEvent)>| {
            let added =
                source.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
            if added.is_err() {
                leptos::logging::warn!("could not listen to {name} events");
            }
        };
        listen("service_state", &on_state);
        listen("check_finished", &on_done);
        listen("deploy_finished", &on_done);
        // The callbacks must live as long as the stream; both end with the page.
        let stream = StoredValue::new_local((source, on_state, on_done));
        on_cleanup(move || {
            stream.try_with_value(|(source, ..)| source.close());
        });
    });
}

/// The server renders the state it has; there is no stream to follow.
#[cfg(not(feature = "hydrate"))]
pub fn follow_events(_states: LiveStates, _on_finished: impl Fn() + 'static) {}
