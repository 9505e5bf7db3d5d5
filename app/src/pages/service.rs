//! One service: its revisions with rollback, its pin, its ignored tags, and its deploy logs.
//! Every action is a form, so it also works before (and without) the WASM.

use leptos::either::Either;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::containers::ContainersPanel;
use super::header::SiteHeader;
use super::overview::StateBadge;
use crate::api::containers::DeployNow;
use crate::api::ignored_tags::Unignore;
use crate::api::pins::{Pin, Unpin};
use crate::api::rollbacks::Rollback;
use crate::api::services::get_service;
use crate::error::AppError;
use crate::model::{RevisionEntry, ServiceDetail, Verdict};

/// The server actions of this page; any of them finishing refetches the service.
#[derive(Clone, Copy)]
struct Actions {
    rollback: ServerAction<Rollback>,
    pin: ServerAction<Pin>,
    unpin: ServerAction<Unpin>,
    unignore: ServerAction<Unignore>,
    deploy: ServerAction<DeployNow>,
}

#[component]
pub fn ServicePage() -> impl IntoView {
    let params = use_params_map();
    let service_id = move || params.with(|p| p.get("id").and_then(|id| id.parse::<i64>().ok()));
    let actions = Actions {
        rollback: ServerAction::new(),
        pin: ServerAction::new(),
        unpin: ServerAction::new(),
        unignore: ServerAction::new(),
        deploy: ServerAction::new(),
    };
    let detail = crate::codec::resource(
        move || {
            (
                service_id(),
                actions.rollback.version().get(),
                actions.pin.version().get(),
                actions.unpin.version().get(),
                actions.unignore.version().get(),
                actions.deploy.version().get(),
            )
        },
        |(id, ..)| async move {
            match id {
                Some(id) => get_service(id).await,
                None => Err(AppError::InvalidInput(
                    "the service id must be a number".into(),
                )),
            }
        },
    );
    view! {
        <SiteHeader>
            <a href="/">"← All services"</a>
        </SiteHeader>
        <ActionOutcome actions/>
        <Transition fallback=|| view! { <p class="loading">"Loading the service…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => Either::Left(view! { <ServiceView detail actions/> }),
                    Err(error) => Either::Right(view! {
                        <p class="error" role="alert">"Could not load the service: " {error.to_string()}</p>
                    }),
                }
            })}
        </Transition>
    }
}

/// What the last action answered, or that one is running (rollbacks take seconds).
#[component]
fn ActionOutcome(actions: Actions) -> impl IntoView {
    let rollback = actions.rollback;
    let text = move || {
        if rollback.pending().get() {
            let to = rollback.input().get().map(|input| input.to);
            return Some(format!("Rolling back to {}…", to.unwrap_or_default()));
        }
        if let Some(result) = rollback.value().get() {
            return Some(match result {
                Ok(report) => match report.reason {
                    None => format!("Rollback to {}: {}", report.tag, report.verdict.label()),
                    Some(reason) => format!(
                        "Rollback to {}: {} ({reason})",
                        report.tag,
                        report.verdict.label()
                    ),
                },
                Err(error) => format!("Rollback failed: {error}"),
            });
        }
        let failed = |result: Option<Result<(), AppError>>| result.and_then(Result::err);
        failed(actions.unpin.value().get())
            .or_else(|| failed(actions.unignore.value().get()))
            .or_else(|| actions.pin.value().get().and_then(Result::err))
            .map(|error| format!("That did not work: {error}"))
    };
    view! { <output class="action-result" data-testid="action-result" aria-live="polite">{text}</output> }
}

#[component]
fn ServiceView(detail: ServiceDetail, actions: Actions) -> impl IntoView {
    let summary = &detail.summary;
    let id = summary.id;
    let tag = summary.current_tag.clone().unwrap_or_else(|| "—".into());
    let digest = detail.current_digest.as_deref().map(short_digest);
    let running = detail.running_revision();
    let fallback_target = first_deploy_previous_tag(&detail);
    let current = summary.current_tag.clone();
    let rows = detail
        .revisions
        .iter()
        .cloned()
        .map(|revision| {
            let is_running = Some(revision.id) == running;
            let targets = rollback_targets(&revision, is_running, current.as_deref(), &fallback_target);
            view! { <RevisionRows revision is_running targets service_id=id rollback=actions.rollback/> }
        })
        .collect_view();
    view! {
        <header class="service-head">
            <h1>{summary.name.clone()}<span class="project">{summary.project.clone()}</span></h1>
            <StateBadge state=summary.state/>
            <p class="image">
                <code>{summary.image.clone()}":"{tag}</code>
                {digest.map(|digest| view! { " " <code title="running digest">{digest}</code> })}
            </p>
            {detail.detail.clone().map(|why| view! { <p class="detail">{why}</p> })}
        </header>
        <PinControl service_id=id pinned=detail.pinned_tag.clone() actions/>
        <ContainersPanel service_id=id deploy=actions.deploy/>
        <section aria-labelledby="revisions-title">
            <h2 id="revisions-title">"Revisions"</h2>
            {if detail.revisions.is_empty() {
                Either::Left(view! { <p class="empty">"Berth has not deployed this service yet."</p> })
            } else {
                Either::Right(view! {
                    <table class="revisions" data-testid="revisions">
                        <thead>
                            <tr>
                                <th scope="col">"Tag"</th>
                                <th scope="col">"Previous"</th>
                                <th scope="col">"Digest"</th>
                                <th scope="col">"Verdict"</th>
                                <th scope="col">"Started"</th>
                                <th scope="col">"Finished"</th>
                                <th scope="col">"By"</th>
                                <th scope="col">"Reason"</th>
                                <th scope="col">"Action"</th>
                            </tr>
                        </thead>
                        {rows}
                    </table>
                })
            }}
        </section>
        <IgnoredTags service_id=id tags=detail.ignored_tags.clone() unignore=actions.unignore/>
    }
}

/// The tag the service ran before Berth's first verified deploy: a rollback target that has
/// no row of its own (the engine falls back to it the same way).
fn first_deploy_previous_tag(detail: &ServiceDetail) -> Option<String> {
    let verified = || {
        detail
            .revisions
            .iter()
            .filter(|r| r.verdict == Verdict::Verified)
    };
    let previous = verified().next_back()?.previous_tag.clone()?;
    let has_row = verified().any(|r| r.tag == previous);
    let is_current = detail.summary.current_tag.as_deref() == Some(previous.as_str());
    (!has_row && !is_current).then_some(previous)
}

/// Which tags this row offers to roll back to: its own tag when it is verified and not
/// running, and, on the oldest verified row, the tag that ran before it.
fn rollback_targets(
    revision: &RevisionEntry,
    is_running: bool,
    current: Option<&str>,
    fallback: &Option<String>,
) -> Vec<String> {
    let mut targets = Vec::new();
    let verified = revision.verdict == Verdict::Verified;
    if verified && !is_running && current != Some(revision.tag.as_str()) {
        targets.push(revision.tag.clone());
    }
    if verified && revision.previous_tag.is_some() && revision.previous_tag == *fallback {
        targets.extend(fallback.clone());
    }
    targets
}

#[component]
fn RevisionRows(
    revision: RevisionEntry,
    is_running: bool,
    targets: Vec<String>,
    service_id: i64,
    rollback: ServerAction<Rollback>,
) -> impl IntoView {
    let when = crate::time::seconds;
    let digest = revision
        .platform_digest
        .as_deref()
        .or(revision.index_digest.as_deref())
        .map(short_digest)
        .unwrap_or_else(|| "—".into());
    let log_title = format!("Deploy log of {} ({})", revision.tag, revision.kind);
    let log = if revision.log.is_empty() {
        "(empty)".to_owned()
    } else {
        revision.log.clone()
    };
    let buttons = targets
        .into_iter()
        .map(|to| {
            view! {
                <ActionForm action=rollback>
                    <input type="hidden" name="service_id" value=service_id/>
                    <input type="hidden" name="to" value=to.clone()/>
                    <button type="submit" data-testid="rollback" data-to=to.clone()
                        disabled=move || rollback.pending().get()>
                        "Roll back to " {to.clone()}
                    </button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <tbody class:running=is_running data-tag=revision.tag.clone() data-verdict=revision.verdict.as_str()>
            <tr>
                <td>
                    <code>{revision.tag.clone()}</code>
                    {(revision.kind == "rollback").then(|| view! { " " <span class="tag-note">"(rollback)"</span> })}
                    {is_running.then(|| view! { " " <strong class="running-label">"Running"</strong> })}
                </td>
                <td><code>{revision.previous_tag.clone().unwrap_or_else(|| "—".into())}</code></td>
                <td><code>{digest}</code></td>
                <td>
                    <span class=format!("verdict verdict-{}", revision.verdict.as_str()) data-testid="verdict">
                        {revision.verdict.label()}
                    </span>
                </td>
                <td>{when(revision.started_at)}</td>
                <td>{revision.finished_at.map(when).unwrap_or_else(|| "—".into())}</td>
                <td>{revision.actor.clone()}</td>
                <td>{revision.reason.clone().unwrap_or_default()}</td>
                <td class="row-actions">{buttons}</td>
            </tr>
            <tr class="log">
                <td colspan="9">
                    <details>
                        <summary>{log_title}</summary>
                        <pre>{log}</pre>
                    </details>
                </td>
            </tr>
        </tbody>
    }
}

#[component]
fn PinControl(service_id: i64, pinned: Option<String>, actions: Actions) -> impl IntoView {
    view! {
        <section class="pin" aria-label="Pin" data-testid="pin">
            {match pinned {
                Some(tag) => Either::Left(view! {
                    <p>"Pinned to " <code>{tag}</code> ": Berth does not update this service."</p>
                    <ActionForm action=actions.unpin>
                        <input type="hidden" name="service_id" value=service_id/>
                        <button type="submit" data-testid="unpin">"Unpin"</button>
                    </ActionForm>
                }),
                None => Either::Right(view! {
                    <p>"Not pinned: Berth deploys newer tags as they appear."</p>
                    <ActionForm action=actions.pin>
                        <input type="hidden" name="service_id" value=service_id/>
                        <button type="submit" data-testid="pin-current">"Pin to the running tag"</button>
                    </ActionForm>
                }),
            }}
        </section>
    }
}

#[component]
fn IgnoredTags(
    service_id: i64,
    tags: Vec<String>,
    unignore: ServerAction<Unignore>,
) -> impl IntoView {
    view! {
        <section aria-labelledby="ignored-title">
            <h2 id="ignored-title">"Ignored tags"</h2>
            {if tags.is_empty() {
                Either::Left(view! { <p class="empty">"No tag is ignored."</p> })
            } else {
                Either::Right(view! {
                    <ul class="ignored" data-testid="ignored-tags">
                        {tags
                            .into_iter()
                            .map(|tag| view! { <IgnoredTag service_id tag unignore/> })
                            .collect_view()}
                    </ul>
                })
            }}
        </section>
    }
}

#[component]
fn IgnoredTag(service_id: i64, tag: String, unignore: ServerAction<Unignore>) -> impl IntoView {
    let (shown, field, label) = (tag.clone(), tag.clone(), tag.clone());
    view! {
        <li data-tag=tag>
            <code>{shown}</code>
            <ActionForm action=unignore>
                <input type="hidden" name="service_id" value=service_id/>
                <input type="hidden" name="tag" value=field/>
                <button type="submit">"Un-ignore " {label}</button>
            </ActionForm>
        </li>
    }
}

/// `sha256:0123456789ab…` is enough to tell digests apart on screen.
fn short_digest(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    format!("sha256:{}", hex.chars().take(12).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ServiceSummary, SyncState};

    fn revision(id: i64, tag: &str, previous: &str, verdict: Verdict) -> RevisionEntry {
        RevisionEntry {
            id,
            kind: "deploy".into(),
            tag: tag.into(),
            previous_tag: Some(previous.into()),
            index_digest: None,
            platform_digest: None,
            started_at: chrono::Utc::now(),
            finished_at: None,
            verdict,
            reason: None,
            actor: "berth".into(),
            log: String::new(),
        }
    }

    fn detail(current: &str, revisions: Vec<RevisionEntry>) -> ServiceDetail {
        ServiceDetail {
            summary: ServiceSummary {
                id: 1,
                project: "p".into(),
                name: "app".into(),
                image: "r/team/app".into(),
                current_tag: Some(current.into()),
                current_digest: None,
                best_candidate: None,
                state: SyncState::Synced,
                last_checked_at: None,
            },
            current_digest: None,
            pinned_tag: None,
            excluded: false,
            detail: None,
            revisions,
            ignored_tags: Vec::new(),
        }
    }

    fn targets_per_row(detail: &ServiceDetail) -> Vec<Vec<String>> {
        let running = detail.running_revision();
        let fallback = first_deploy_previous_tag(detail);
        detail
            .revisions
            .iter()
            .map(|r| {
                let current = detail.summary.current_tag.as_deref();
                rollback_targets(r, Some(r.id) == running, current, &fallback)
            })
            .collect()
    }

    #[test]
    fn after_the_first_deploy_the_running_row_offers_the_tag_that_ran_before() {
        let detail = detail(
            "1.1.0",
            vec![revision(1, "1.1.0", "1.0.0", Verdict::Verified)],
        );
        assert_eq!(detail.running_revision(), Some(1));
        assert_eq!(targets_per_row(&detail), vec![vec!["1.0.0".to_owned()]]);
    }

    #[test]
    fn older_verified_rows_offer_themselves_and_failed_rows_nothing() {
        let detail = detail(
            "1.2.0",
            vec![
                revision(3, "1.3.0", "1.2.0", Verdict::RolledBack),
                revision(2, "1.2.0", "1.1.0", Verdict::Verified),
                revision(1, "1.1.0", "1.0.0", Verdict::Verified),
            ],
        );
        assert_eq!(detail.running_revision(), Some(2));
        assert_eq!(
            targets_per_row(&detail),
            vec![vec![], vec![], vec!["1.1.0".to_owned(), "1.0.0".to_owned()]]
        );
    }

    #[test]
    fn after_a_rollback_to_the_first_tag_it_is_not_offered_again() {
        let detail = detail(
            "1.0.0",
            vec![
                revision(2, "1.0.0", "1.1.0", Verdict::Verified),
                revision(1, "1.1.0", "1.0.0", Verdict::Verified),
            ],
        );
        assert_eq!(
            targets_per_row(&detail),
            vec![vec![], vec!["1.1.0".to_owned()]]
        );
    }
}
