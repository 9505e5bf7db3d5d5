//! The bar on every page but the login: navigation, the theme toggle, who is logged in, and
//! logout (a form, so it works without the WASM).

use leptos::prelude::*;

use crate::api::session::whoami;

#[component]
pub fn SiteHeader(children: Children) -> impl IntoView {
    let user = crate::codec::resource(|| (), |_| whoami());
    view! {
        <header class="topbar">
            <nav class="site-nav" aria-label="Main">
                <a href="/" class="brand">"Berth"</a>
                <a href="/">"Services"</a>
                <a href="/registries">"Registries"</a>
            </nav>
            <div class="topbar-actions">
                {children()}
                <ThemeToggle/>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        user.await.ok().map(|email| view! {
                            <span class="user" data-testid="current-user">{email}</span>
                        })
                    })}
                </Suspense>
                <form method="post" action="/logout" class="logout">
                    <button type="submit" data-testid="logout">"Log out"</button>
                </form>
            </div>
        </header>
    }
}

/// Dark by default; the choice is kept in `localStorage` and applied by a tiny script in
/// the page head before the first paint (see `shell`), so a reload does not flash.
#[component]
fn ThemeToggle() -> impl IntoView {
    view! {
        <button
            type="button"
            class="theme-toggle"
            data-testid="theme-toggle"
            aria-label="Switch between dark and light"
            on:click=move |_| toggle_theme()
        >
            "Light / dark"
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn toggle_theme() {
    let Some(root) = document().document_element() else {
        return;
    };
    let next = if root.get_attribute("data-theme").as_deref() == Some("light") {
        "dark"
    } else {
        "light"
    };
    let _ = root.set_attribute("data-theme", next);
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item("berth-theme", next);
    }
}

#[cfg(not(feature = "hydrate"))]
fn toggle_theme() {}
