//! The login page: a plain HTML form posted to `POST /login`, so it works before (and
//! without) the WASM. The server answers with the session cookie and a redirect, or sends
//! the browser back here with `?error=` saying why.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || {
        query
            .with(|q| q.get("next"))
            .unwrap_or_else(|| "/".to_owned())
    };
    let message = move || {
        query.with(|q| {
            let wait = q.get("wait").unwrap_or_else(|| "a few".to_owned());
            match q.get("error").as_deref() {
                Some("wrong") => Some(("error", "Wrong email or password.".to_owned())),
                Some("throttled") => Some((
                    "error",
                    format!("Too many failed logins from your address. Try again in {wait} s."),
                )),
                Some("form") => Some(("error", "Fill in both email and password.".to_owned())),
                Some("logged-out") => Some(("notice", "You have logged out.".to_owned())),
                _ => None,
            }
        })
    };
    view! {
        <section class="login card">
            <h1>"Berth"</h1>
            <p class="muted">"Log in to manage your deployments."</p>
            {move || message().map(|(kind, text)| view! {
                <p class=kind role="alert" data-testid="login-message">{text}</p>
            })}
            <form method="post" action="/login" data-testid="login-form">
                <input type="hidden" name="next" prop:value=next/>
                <label>
                    "Email"
                    <input type="email" name="email" autocomplete="username" required autofocus/>
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="current-password" required/>
                </label>
                <button type="submit">"Log in"</button>
            </form>
        </section>
    }
}
