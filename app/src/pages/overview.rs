//! The overview: one card per service, and "Check now". Badges follow `/events` live.

use std::collections::HashMap;

use leptos::prelude::*;

use super::live::{LiveStates, follow_events};
use crate::api::checks::CheckNow;
use crate::api::services::list_services;
use crate::model::{ServiceSummary, SyncState};

#[component]
pub fn Overview() -> impl IntoView {
    let services = Resource::new(|| (), |_| list_services());
    let live_states: LiveStates = RwSignal::new(HashMap::new());
    provide_context(live_states);
    follow_events(live_states, move || services.refetch());
    view! {
        <header class="topbar">
            <h1>"Berth"</h1>
            <CheckNowButton/>
        </header>
        // Transition: a refetch after a check keeps the cards on screen until the new list is in.
        <Transition fallback=|| view! { <p class="loading">"Loading services…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Ok(list) if list.is_empty() => EmptyState().into_any(),
                    Ok(list) => view! { <ServiceGrid services=list/> }.into_any(),
                    Err(error) => view! {
                        <p class="error" role="alert">"Could not load services: " {error.to_string()}</p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EmptyState() -> impl IntoView {
    view! {
        <section class="empty" data-testid="empty-state">
            <p>"Berth is not managing any services yet."</p>
            <p>
                "Add "<code>"COMPOSE_FILE_PATH_<NAME>"</code>" and a "
                <code>"<REGISTRY>_REPOSITORY_MAP_<NAME>"</code>
                " to your .updater.env (or run scripts/generate_env.sh), or start a compose project on this host."
            </p>
        </section>
    }
}

#[component]
fn ServiceGrid(services: Vec<ServiceSummary>) -> impl IntoView {
    view! {
        <ul class="services" data-testid="service-list">
            {services.into_iter().map(|service| view! { <ServiceCard service/> }).collect_view()}
        </ul>
    }
}

#[component]
fn ServiceCard(service: ServiceSummary) -> impl IntoView {
    let tag = service
        .current_tag
        .clone()
        .unwrap_or_else(|| "—".to_owned());
    let live_states = use_context::<LiveStates>();
    let (id, loaded_state) = (service.id, service.state);
    let state = move || {
        live_states
            .and_then(|states| states.with(|states| states.get(&id).copied()))
            .unwrap_or(loaded_state)
    };
    view! {
        <li class="card" data-service=service.name.clone() data-service-id=id>
            <h2>
                <a href=format!("/services/{id}")>{service.name.clone()}</a>
                <span class="project">{service.project.clone()}</span>
            </h2>
            {move || view! { <StateBadge state=state()/> }}
            <p class="image"><code>{service.image.clone()}":"{tag}</code></p>
            {service.best_candidate.clone().map(|best| view! { <p class="candidate">"Best candidate: "<code>{best}</code></p> })}
        </li>
    }
}

#[component]
pub fn StateBadge(state: SyncState) -> impl IntoView {
    view! {
        <span class=format!("badge state-{}", state.as_str()) data-testid="state-badge">
            {state.label()}
        </span>
    }
}

/// Runs a check through a server function. A plain button (not a form): it does nothing
/// until the WASM has hydrated, which is what the end2end test relies on to prove hydration.
#[component]
fn CheckNowButton() -> impl IntoView {
    let check = ServerAction::<CheckNow>::new();
    let pending = check.pending();
    let answer = move || {
        check.value().get().map(|result| match result {
            Ok(report) => format!(
                "Checked {} service(s) at {}",
                report.services_checked,
                report.checked_at.format("%H:%M:%S UTC")
            ),
            Err(error) => format!("Check failed: {error}"),
        })
    };
    view! {
        <div class="check-now">
            <button
                type="button"
                data-testid="check-now"
                disabled=pending
                on:click=move |_| {
                    check.dispatch(CheckNow {});
                }
            >
                {move || if pending.get() { "Checking…" } else { "Check now" }}
            </button>
            <output data-testid="check-result" aria-live="polite">{answer}</output>
        </div>
    }
}
