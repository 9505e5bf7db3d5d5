//! The service page's container section: status and the last log lines (refreshed every
//! few seconds once the WASM runs), and the operator's buttons: Deploy now, Start, Stop,
//! Prune. Every button is a form, so it also works without the WASM.

use leptos::either::EitherOf3;
use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::api::containers::{ControlContainers, DeployNow, LOG_LINES, list_containers};
use crate::model::{ContainerAction, ContainerView};

/// How often the logs refresh while the page is open.
#[cfg(feature = "hydrate")]
const LOG_REFRESH: std::time::Duration = std::time::Duration::from_secs(3);

#[component]
pub fn ContainersPanel(service_id: i64, deploy: ServerAction<DeployNow>) -> impl IntoView {
    let control = ServerAction::<ControlContainers>::new();
    let (tick, set_tick) = signal(0_u64);
    #[cfg(feature = "hydrate")]
    {
        let handle = set_interval_with_handle(move || set_tick.update(|t| *t += 1), LOG_REFRESH);
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _server_renders_once = set_tick;
    let containers = crate::codec::resource(
        move || (tick.get(), control.version().get(), deploy.version().get()),
        move |_| list_containers(service_id),
    );
    let answer = move || {
        if deploy.pending().get() {
            return Some("Deploying the best candidate…".to_owned());
        }
        if control.pending().get() {
            return Some("Working…".to_owned());
        }
        let deployed = deploy.value().get().map(|result| match result {
            Ok(report) => format!("Deploy of {}: {}", report.tag, report.verdict.label()),
            Err(error) => format!("Deploy failed: {error}"),
        });
        deployed.or_else(|| {
            control.value().get().map(|result| match result {
                Ok(answer) => answer,
                Err(error) => format!("That did not work: {error}"),
            })
        })
    };
    let button = move |action: ContainerAction, label: &'static str, testid: &'static str| {
        view! {
            <ActionForm action=control>
                <input type="hidden" name="service_id" value=service_id/>
                <input type="hidden" name="action" value=format!("{action:?}")/>
                <button type="submit" data-testid=testid>{label}</button>
            </ActionForm>
        }
    };
    view! {
        <section aria-labelledby="containers-title" class="containers">
            <h2 id="containers-title">"Containers"</h2>
            <div class="container-actions">
                <ActionForm action=deploy>
                    <input type="hidden" name="service_id" value=service_id/>
                    <button type="submit" data-testid="deploy-now">"Deploy now"</button>
                </ActionForm>
                {button(ContainerAction::Start, "Start", "start")}
                {button(ContainerAction::Stop, "Stop", "stop")}
                {button(ContainerAction::Prune, "Prune old images", "prune")}
            </div>
            <output class="action-result" data-testid="container-result" aria-live="polite">{answer}</output>
            <Transition fallback=|| view! { <p class="loading">"Reading containers…"</p> }>
                {move || Suspend::new(async move {
                    match containers.await {
                        Ok(list) if list.is_empty() => EitherOf3::A(view! {
                            <p class="empty">"No container of this service exists on this host."</p>
                        }),
                        Ok(list) => EitherOf3::B(
                            list.into_iter()
                                .map(|container| view! { <ContainerCard container/> })
                                .collect_view(),
                        ),
                        Err(error) => EitherOf3::C(view! {
                            <p class="error" role="alert">"Could not read the containers: " {error.to_string()}</p>
                        }),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ContainerCard(container: ContainerView) -> impl IntoView {
    let status_class = match container.status.as_str() {
        "running" => "state-synced",
        "restarting" => "state-deploying",
        _ => "state-failed",
    };
    view! {
        <article class="container card" data-container=container.name.clone()>
            <h3>
                <code>{container.name.clone()}</code>
                " "
                <span class=format!("badge {status_class}") data-testid="container-status">
                    {container.status.clone()}
                </span>
                {container.health.clone().map(|health| view! { " " <span class="muted">{health}</span> })}
            </h3>
            <details open>
                <summary>{format!("Last {LOG_LINES} log lines")}</summary>
                <pre data-testid="container-logs">{container.logs}</pre>
            </details>
        </article>
    }
}
