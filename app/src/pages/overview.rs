//! The overview: one card per service, and "Check now". Badges follow `/events` live.

use std::collections::HashMap;

use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::header::SiteHeader;
use super::live::{LiveStates, follow_events};
use crate::api::checks::CheckNow;
use crate::api::services::list_services;
use crate::model::{ServiceSummary, SyncState, short_digest};

#[component]
pub fn Overview() -> impl IntoView {
    let services = crate::codec::resource(|| (), |_| list_services());
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| Filter {
            project: q.get("project").filter(|p| !p.is_empty()),
            status: q.get("status").filter(|s| !s.is_empty()),
        })
    });
    let live_states: LiveStates = RwSignal::new(HashMap::new());
    provide_context(live_states);
    follow_events(live_states, move || services.refetch());
    view! {
        <SiteHeader>
            <CheckNowButton/>
        </SiteHeader>
        // Transition: a refetch after a check keeps the cards on screen until the new list is in.
        <Transition fallback=|| view! { <p class="loading">"Loading services…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Ok(list) if list.is_empty() => EitherOf3::A(EmptyState()),
                    Ok(list) => EitherOf3::B(view! {
                        <Filters services=list.clone()/>
                        <ServiceGrid services=filter.get().apply(list)/>
                    }),
                    Err(error) => EitherOf3::C(view! {
                        <p class="error" role="alert">"Could not load services: " {error.to_string()}</p>
                    }),
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

/// The overview's filters, from the query string so a filtered view can be bookmarked and
/// works without the WASM.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filter {
    project: Option<String>,
    status: Option<String>,
}

impl Filter {
    fn apply(&self, services: Vec<ServiceSummary>) -> Vec<ServiceSummary> {
        services
            .into_iter()
            .filter(|service| self.project.as_ref().is_none_or(|p| *p == service.project))
            .filter(|service| {
                self.status
                    .as_ref()
                    .is_none_or(|s| s == service.state.as_str())
            })
            .collect()
    }
}

/// A GET form: choosing and applying a filter works before (and without) the WASM.
#[component]
fn Filters(services: Vec<ServiceSummary>) -> impl IntoView {
    let query = use_query_map();
    let chosen = move |key: &str| query.with(|q| q.get(key)).unwrap_or_default();
    let mut projects: Vec<String> = services.iter().map(|s| s.project.clone()).collect();
    projects.sort();
    projects.dedup();
    let (project, status) = (chosen("project"), chosen("status"));
    view! {
        <form class="filters" method="get" action="/" data-testid="filters">
            <label>
                "Project"
                <select name="project">
                    <option value="" selected=project.is_empty()>"All projects"</option>
                    {projects.into_iter().map(|name| {
                        let selected = name == project;
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Status"
                <select name="status">
                    <option value="" selected=status.is_empty()>"Any status"</option>
                    {SyncState::ALL.into_iter().map(|state| {
                        let selected = state.as_str() == status;
                        view! { <option value=state.as_str() selected=selected>{state.label()}</option> }
                    }).collect_view()}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </form>
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
            {service.current_digest.as_deref().map(short_digest).map(|digest| view! {
                <p class="meta">"Digest "<code>{digest.to_owned()}</code></p>
            })}
            {service.best_candidate.clone().map(|best| view! { <p class="candidate">"Best candidate: "<code>{best}</code></p> })}
            <p class="meta">
                "Registry "{service.registry().to_owned()}" · "
                {service.last_checked_at.map_or_else(
                    || "not checked yet".to_owned(),
                    |at| format!("checked {}", crate::time::minutes(at)),
                )}
            </p>
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
                crate::time::time_of_day(report.checked_at)
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
