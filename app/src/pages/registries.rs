//! Each registry Berth has talked to: whether its login works, its last error, and the
//! rate-limit quota it last reported.

use leptos::either::EitherOf3;
use leptos::prelude::*;

use super::header::SiteHeader;
use crate::api::registries::list_registries;
use crate::model::RegistryInfo;

#[component]
pub fn RegistriesPage() -> impl IntoView {
    let registries = crate::codec::resource(|| (), |_| list_registries());
    view! {
        <SiteHeader>
            <span></span>
        </SiteHeader>
        <h1 class="page-title">"Registries"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading registries…"</p> }>
            {move || Suspend::new(async move {
                match registries.await {
                    Ok(list) if list.is_empty() => EitherOf3::A(view! {
                        <p class="empty" data-testid="no-registries">
                            "Berth has not asked any registry yet: run a check first."
                        </p>
                    }),
                    Ok(list) => EitherOf3::B(view! {
                        <ul class="services" data-testid="registry-list">
                            {list.into_iter().map(|registry| view! { <RegistryCard registry/> }).collect_view()}
                        </ul>
                    }),
                    Err(error) => EitherOf3::C(view! {
                        <p class="error" role="alert">"Could not load registries: " {error.to_string()}</p>
                    }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RegistryCard(registry: RegistryInfo) -> impl IntoView {
    let (class, label) = match registry.auth_ok {
        Some(true) => ("state-synced", "Auth OK"),
        Some(false) => ("state-failed", "Auth failing"),
        None => ("state-unknown", "Not asked yet"),
    };
    let quota = match (registry.quota_remaining, registry.quota_limit) {
        (Some(remaining), Some(limit)) => format!("{remaining} of {limit} left"),
        (Some(remaining), None) => format!("{remaining} left"),
        _ => "not reported".to_owned(),
    };
    let window = registry
        .quota_window_seconds
        .map(|seconds| format!(" per {} h", seconds / 3600));
    view! {
        <li class="card" data-registry=registry.registry.clone()>
            <h2>{registry.registry.clone()}</h2>
            <span class=format!("badge {class}") data-testid="auth-badge">{label}</span>
            <p class="image">"Rate-limit quota: " {quota} {window}</p>
            {registry.limited_until.map(|until| view! {
                <p class="error">"Rate limited until " {crate::time::time_of_day(until)}</p>
            })}
            <p class="image">"Requests since start: " {registry.requests}</p>
            {registry.last_error.map(|error| view! {
                <p class="last-error" data-testid="last-error">
                    "Last error"
                    {registry.last_error_at.map(|at| format!(" ({})", crate::time::minutes(at)))}
                    ": " {error}
                </p>
            })}
        </li>
    }
}
