//! The reader's language: `?lang=ko|en`, else the `Accept-Language` header. A request that
//! states neither gets every message in both languages (`"<Korean> / <English>"`), as API
//! clients and logs always have; pages always state one.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use dojang_core::Lang;

tokio::task_local! {
    static READER: Option<Lang>;
}

/// The language the request being answered asked for, if any (outside a request: none).
pub fn reader() -> Option<Lang> {
    READER.try_with(|lang| *lang).ok().flatten()
}

/// The language `request` asks for: its `lang` query parameter, else its `Accept-Language`.
pub fn asked(request: &Request) -> Option<Lang> {
    let query = request.uri().query().unwrap_or_default();
    let from_query = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("lang="))
        .find_map(|tag| tag.parse().ok());
    from_query.or_else(|| {
        request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
    })
}

/// Answers `request` with [`reader`] set to the language it asks for: wrap a router with
/// `axum::middleware::from_fn(lang::negotiate)`.
pub async fn negotiate(request: Request, next: Next) -> Response {
    let lang = asked(&request);
    READER.scope(lang, next.run(request)).await
}

/// A message in the reader's language: one half of a `"<Korean> / <English>"` message, or the
/// whole of it when the reader stated no language.
pub fn localized(message: &str) -> &str {
    reader().map_or(message, |lang| lang.pick(message))
}

/// A page's HTML (written `<html lang="ko">`) in the reader's language, Korean when none.
pub fn page_html(html: &'static str) -> String {
    let lang = reader().unwrap_or_default();
    html.replacen(
        "<html lang=\"ko\">",
        &format!("<html lang=\"{}\">", lang.tag()),
        1,
    )
}
