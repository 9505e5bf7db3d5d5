//! Berth's dashboard: pages, components, server functions and the wire types the browser
//! and the server share. Compiled twice: with `ssr` into the server, with `hydrate` into
//! the WASM that the `frontend` crate exports.

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod codec;
pub mod error;
pub mod model;
mod pages;
pub mod time;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};
use pages::sync_hydrate::SyncHydrate;

/// The HTML document around the app; the server renders it for every page request.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme="dark">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // The saved theme is applied before the first paint, so a reload never flashes.
                <script>
                    "try{var t=localStorage.getItem('berth-theme');if(t==='light'||t==='dark')document.documentElement.setAttribute('data-theme',t)}catch(e){}"
                </script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="berth" href="/pkg/berth.css"/>
        <Title text="Berth"/>
        <Router>
            <main>
                // Async: the service list is inline in the first response, so the page reads
                // the same with or without the WASM.
                // SyncHydrate: see pages/sync_hydrate.rs (it keeps the WASM smaller).
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=|| SyncHydrate(pages::overview::Overview()) ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=|| SyncHydrate(pages::login::LoginPage())/>
                    <Route
                        path=StaticSegment("registries")
                        view=|| SyncHydrate(pages::registries::RegistriesPage())
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("services"), ParamSegment("id"))
                        view=|| SyncHydrate(pages::service::ServicePage())
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
