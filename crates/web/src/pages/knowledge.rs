//! The portal's Knowledge Base tab: search, categories and popular
//! articles; the article (and known-error) page with "Was this helpful?";
//! and the "check these articles first" step before the request form.
//! Everything works without JavaScript; `/assets/deflect.js` adds
//! type-ahead suggestions under any input with `data-suggest`.

use super::{PageCaller, Tab, error_page, notice, page};
use crate::AppState;
use crate::pages::layout::Chrome;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use tier0_app::kb::feedback::FeedbackInput;
use tier0_app::kb::search::{DocKind, SearchInput, SearchItem, SearchOut, SearchSource};
use tier0_app::{AppError, Ctx};
use tier0_domain::kb::{Article, ArticleStatus, KnownError};

/// Percent-encode a query-string value.
pub fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Where "Still need help? Submit a request" goes, pre-filled.
pub fn request_link(title: &str, details: Option<&str>) -> String {
    let title: String = title.trim().chars().take(200).collect();
    match details {
        Some(d) => format!("/portal/request/new?title={}&details={}", enc(&title), enc(d)),
        None => format!("/portal/request/new?title={}", enc(&title)),
    }
}

/// A page-friendly rendering of an app error.
fn failure(chrome: &Chrome, e: AppError, path: &str) -> Response {
    match e {
        AppError::Unauthenticated => super::login_redirect(path),
        AppError::NotFound => {
            error_page(StatusCode::NOT_FOUND, "Not found", "There is no such article, or you cannot see it.")
        }
        AppError::Forbidden { message, .. } => (
            StatusCode::FORBIDDEN,
            page(chrome, "Not allowed", Tab::Knowledge, html! { h1 { "Not allowed" } (notice("error", &message)) }),
        )
            .into_response(),
        other => {
            let api = crate::error::ApiError::from(other);
            (
                api.status,
                page(
                    chrome,
                    "Knowledge Base",
                    Tab::Knowledge,
                    html! { h1 { "Knowledge Base" } (notice("error", &api.message)) },
                ),
            )
                .into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct KbQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
}

fn search_form(q: &str, category: Option<&str>) -> Markup {
    html! {
        form class="searchbar" method="get" action="/portal/knowledge" role="search" {
            label class="visually-hidden" for="kb-q" { "Search the knowledge base" }
            input id="kb-q" type="search" name="q" value=(q) maxlength="400" placeholder="Describe your problem, e.g. “can't connect to Wi-Fi”" data-suggest="";
            @if let Some(c) = category { input type="hidden" name="category" value=(c); }
            button class="btn" type="submit" { "Search" }
        }
    }
}

fn kind_label(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Article => "Article",
        DocKind::KnownError => "Known error",
    }
}

/// One search result: title, what it is, and the passage that matched.
pub fn result_item(item: &SearchItem, search_id: Option<&str>, q: &str, extra: Option<Markup>) -> Markup {
    let mut href = item.url.clone();
    let mut params = Vec::new();
    if let Some(s) = search_id {
        params.push(format!("from_search={s}"));
    }
    if !q.trim().is_empty() {
        params.push(format!("q={}", enc(q)));
    }
    if !params.is_empty() {
        href = format!("{href}?{}", params.join("&"));
    }
    let kind = item.kind;
    html! {
        li class="card result" {
            h3 { a href=(href) { (item.title) } }
            p class="meta" {
                (item.number) " · " (kind_label(kind))
                @if !item.category.is_empty() && kind == DocKind::Article { " · " (item.category) }
            }
            // The snippet is HTML-escaped by the search index except for
            // the <mark> elements around matched words.
            @if !item.snippet.is_empty() { p class="snippet" { (PreEscaped(&item.snippet)) } }
            @if let Some(x) = extra { (x) }
        }
    }
}

fn results_list(out: &SearchOut, q: &str) -> Markup {
    html! {
        h2 class="visually-hidden" { "Results" }
        p class="meta" role="status" {
            @if out.total_capped { "More than " (out.total) " results" } @else { (out.total) " result" @if out.total != 1 { "s" } }
            " for “" (q) "”"
        }
        ol class="results stack" {
            @for item in &out.items { (result_item(item, out.search_id.as_deref(), q, None)) }
        }
    }
}

fn article_list(items: &[Article]) -> Markup {
    html! {
        ul class="results stack" {
            @for a in items {
                li class="card result" {
                    h3 { a href={ "/portal/knowledge/" (a.id) } { (a.title) } }
                    p class="meta" { (a.number) " · " (a.category) " · updated " (a.updated_at.date_string()) }
                }
            }
        }
    }
}

fn still_need_help(title: &str, details: Option<&str>) -> Markup {
    html! {
        aside class="card still-need-help" aria-labelledby="need-help" {
            h2 id="need-help" { "Still need help?" }
            p { "If nothing here solves your problem, the service desk will." }
            a class="btn" href=(request_link(title, details)) { "Submit a request" }
        }
    }
}

/// `GET /portal/knowledge?q=&category=&kind=`.
pub async fn home(State(st): State<AppState>, c: PageCaller, Query(q): Query<KbQuery>) -> Response {
    if let Err(r) = c.reader() {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let text = q.q.as_deref().unwrap_or("").trim().to_owned();
    let category = q.category.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let kind = q.kind.as_deref().filter(|k| matches!(*k, "article" | "known_error")).map(str::to_owned);
    let categories = match st.app.kb_categories(&c.ctx).await {
        Ok(c) => c,
        Err(e) => return failure(&chrome, e, &c.path),
    };
    let body = if !text.is_empty() {
        let input = SearchInput { query: text.clone(), limit: Some(20), category: category.clone(), kind };
        match st.app.kb_search(&c.ctx, input, SearchSource::Portal).await {
            Ok(out) => html! {
                (results_list(&out, &text))
                @if out.items.is_empty() {
                    p { "No articles match. Try other words, or describe the problem to the service desk." }
                }
            },
            Err(AppError::Validation(_)) => notice("error", "That search could not be run; try fewer words."),
            Err(e) => return failure(&chrome, e, &c.path),
        }
    } else if let Some(cat) = &category {
        let query = tier0_app::kb::articles::ArticleListQuery {
            category: Some(cat.clone()),
            status: Some("published".into()),
            limit: Some(100),
            ..Default::default()
        };
        match st.app.list_articles(&c.ctx, query).await {
            Ok(p) => html! {
                h2 { (cat) }
                @if p.items.is_empty() { p { "No articles in this category." } } @else { (article_list(&p.items)) }
            },
            Err(e) => return failure(&chrome, e, &c.path),
        }
    } else {
        match st.app.popular_articles(&c.ctx, 6).await {
            Ok(popular) => html! {
                h2 { "Popular articles" }
                @if popular.is_empty() { p { "There are no articles yet." } } @else { (article_list(&popular)) }
            },
            Err(e) => return failure(&chrome, e, &c.path),
        }
    };
    let markup = html! {
        h1 { "Knowledge Base" }
        p class="lead" { "Answers to common questions. Search in your own words; typos are fine." }
        (search_form(&text, category.as_deref()))
        div class="cols kb-layout" {
            section aria-label="Results" { (body) }
            div class="stack" {
                @if !categories.is_empty() {
                    nav class="card" aria-labelledby="kb-cats" {
                        h2 id="kb-cats" { "Categories" }
                        ul class="plain-list" {
                            @for (name, n) in &categories {
                                li {
                                    a href={ "/portal/knowledge?category=" (enc(name)) } aria-current=[(category.as_deref() == Some(name.as_str())).then_some("page")] { (name) }
                                    " " span class="meta" { "(" (n) ")" }
                                }
                            }
                        }
                    }
                }
                @if c.ctx.is_signed_in() { (still_need_help(&text, None)) }
            }
        }
        script src="/assets/deflect.js" defer {}
    };
    page(&chrome, "Knowledge Base", Tab::Knowledge, markup).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ArticleQuery {
    #[serde(default)]
    pub from_search: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub feedback: Option<String>,
}

/// `GET /portal/knowledge/{id}`: an article or a known error.
pub async fn article(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<ArticleQuery>,
) -> Response {
    if let Err(r) = c.reader() {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    match st.app.get_article(&c.ctx, &id, q.from_search.as_deref()).await {
        Ok(a) => {
            if a.status == ArticleStatus::Published {
                st.app.count_article_view(&c.ctx, &a.id);
            }
            article_page(&st, &c.ctx, &chrome, &a, &q).await
        }
        Err(AppError::NotFound) => match st.app.get_known_error(&c.ctx, &id, q.from_search.as_deref()).await {
            Ok(k) => known_error_page(&st, &c.ctx, &chrome, &k, &q).await,
            Err(e) => failure(&chrome, e, &c.path),
        },
        Err(e) => failure(&chrome, e, &c.path),
    }
}

async fn related(st: &AppState, ctx: &Ctx, id: &str, title: &str) -> Vec<SearchItem> {
    match st.app.kb_reader(ctx) {
        Ok(r) => st.app.kb_related(ctx, r, id, title, 3).await.unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

fn related_list(items: &[SearchItem]) -> Markup {
    html! {
        @if !items.is_empty() {
            nav class="card" aria-labelledby="related" {
                h2 id="related" { "Related" }
                ul class="plain-list" {
                    @for r in items {
                        li { a href=(r.url) { (r.title) } " " span class="meta" { (r.number) } }
                    }
                }
            }
        }
    }
}

async fn article_page(st: &AppState, ctx: &Ctx, chrome: &Chrome, a: &Article, q: &ArticleQuery) -> Response {
    let search_text =
        q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(200).collect::<String>());
    let request_title = search_text.clone().unwrap_or_else(|| a.title.clone());
    let details =
        format!("I read {} “{}” (/portal/knowledge/{}) but it did not solve my problem.", a.number, a.title, a.id);
    let mine = st.app.my_article_feedback(ctx, &a.id).await.unwrap_or(None);
    let related = related(st, ctx, a.id.as_str(), &a.title).await;
    let author = ctx.allows("kb:write") && ctx.is_signed_in();
    let feedback = q.feedback.as_deref();
    let markup = html! {
        nav aria-label="Breadcrumb" class="meta" {
            a href="/portal/knowledge" { "Knowledge Base" } " › "
            a href={ "/portal/knowledge?category=" (enc(&a.category)) } { (a.category) }
        }
        article class="cols kb-article" aria-labelledby="title" {
            div {
                h1 id="title" { (a.title) }
                p class="meta" {
                    (a.number) " · Updated " time datetime=(a.updated_at.to_rfc3339()) { (a.updated_at.date_string()) }
                    @if a.status != ArticleStatus::Published { " · " span class={ "pill " (a.status.as_str()) } { (a.status.as_str()) } }
                    @if author { " · " a href={ "/itsm/kb/" (a.id) } { "Edit" } }
                }
                @if a.status != ArticleStatus::Published { (notice("warn", "This article is not published: requesters cannot see it.")) }
                @if !a.tags.is_empty() {
                    ul class="tags" aria-label="Tags" { @for t in &a.tags { li { a href={ "/portal/knowledge?q=" (enc(t)) } { (t) } } } }
                }
                // Rendered from Markdown and sanitised (see kb::markdown).
                div class="prose" { (PreEscaped(&a.body_html)) }
                section class="card helpful" aria-labelledby="helpful" {
                    @match feedback {
                        Some("solved") => {
                            h2 id="helpful" { "Glad that solved it" }
                            p role="status" { "Thanks for telling us — no request needed." }
                        }
                        Some("yes") => {
                            h2 id="helpful" { "Thanks for your feedback" }
                            p role="status" { "Glad this helped." }
                        }
                        Some("no") => {
                            h2 id="helpful" { "Thanks for your feedback" }
                            p role="status" { "Sorry this did not solve it. The service desk can help:" }
                            a class="btn" href=(request_link(&request_title, Some(&details))) { "Still need help? Submit a request" }
                        }
                        _ => {
                            h2 id="helpful" { "Was this helpful?" }
                            @if ctx.is_signed_in() {
                                @if let Some(m) = mine { p class="meta" { "You answered “" (if m { "yes" } else { "no" }) "” before; you can change your answer." } }
                                form method="post" action={ "/portal/knowledge/" (a.id) "/feedback" } class="stack" {
                                    @if let Some(s) = q.from_search.as_deref() { input type="hidden" name="from_search" value=(s); }
                                    @if let Some(s) = &search_text { input type="hidden" name="q" value=(s); }
                                    div class="row" {
                                        button class="btn" type="submit" name="answer" value="yes" { "Yes, this solved my problem" }
                                        button class="btn secondary" type="submit" name="answer" value="no" { "No" }
                                    }
                                    div class="field" {
                                        label for="f-comment" { "What was missing? " span class="optional" { "(optional)" } }
                                        textarea id="f-comment" name="comment" maxlength="2000" rows="3" {}
                                    }
                                }
                            } @else {
                                p { a href={ "/login?next=" (enc(&format!("/portal/knowledge/{}", a.id))) } { "Sign in" } " to tell us." }
                            }
                        }
                    }
                }
            }
            div class="stack" {
                (related_list(&related))
                @if ctx.is_signed_in() && feedback != Some("no") { (still_need_help(&request_title, Some(&details))) }
            }
        }
    };
    page(chrome, &a.title, Tab::Knowledge, markup).into_response()
}

async fn known_error_page(st: &AppState, ctx: &Ctx, chrome: &Chrome, k: &KnownError, q: &ArticleQuery) -> Response {
    let request_title = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or(&k.title).to_owned();
    let details = format!("This looks like known error {} “{}” (/portal/knowledge/{}).", k.number, k.title, k.id);
    let related = related(st, ctx, k.id.as_str(), &k.title).await;
    let markup = html! {
        nav aria-label="Breadcrumb" class="meta" { a href="/portal/knowledge" { "Knowledge Base" } " › Known errors" }
        article class="cols kb-article" aria-labelledby="title" {
            div {
                h1 id="title" { (k.title) }
                p class="meta" {
                    (k.number) " · " span class="pill warn" { "Known error" } " · Updated " (k.updated_at.date_string())
                    @if !k.public { " · " span class="pill draft" { "internal" } }
                }
                p { "This is a known problem. The service desk is aware of it; the workaround below gets you going in the meantime." }
                h2 { "Symptoms" }
                div class="prose" { (PreEscaped(&k.symptoms_html)) }
                h2 { "Workaround" }
                @if k.workaround.is_empty() { p { "No workaround yet." } } @else { div class="prose" { (PreEscaped(&k.workaround_html)) } }
                @if let Some(rc) = &k.root_cause_html {
                    h2 { "Root cause " span class="meta" { "(staff only)" } }
                    div class="prose" { (PreEscaped(rc)) }
                }
                @if let Some(p) = &k.problem_id { p class="meta" { "Problem: " (p) " " span class="meta" { "(staff only)" } } }
            }
            div class="stack" {
                (related_list(&related))
                @if ctx.is_signed_in() { (still_need_help(&request_title, Some(&details))) }
            }
        }
    };
    page(chrome, &k.title, Tab::Knowledge, markup).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub from_search: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
}

/// `POST /portal/knowledge/{id}/feedback` (the no-JS form).
pub async fn feedback(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(f): Form<FeedbackForm>,
) -> Response {
    let back = format!("/portal/knowledge/{id}");
    if c.ctx.signed_in().is_err() {
        return super::login_redirect(&back);
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let helpful = f.answer == "yes";
    let input = FeedbackInput {
        helpful,
        comment: f.comment.filter(|s| !s.trim().is_empty()).map(|s| s.chars().take(2_000).collect()),
        solved: Some(helpful),
        search_id: f.from_search.clone(),
        query: f.q.clone(),
        source: Some("article".into()),
    };
    let can = match c.ctx.can::<tier0_app::caps::ItsmRead>() {
        Ok(can) => can,
        Err(e) => return failure(&chrome, e, &back),
    };
    match st.app.article_feedback(can, &id, input).await {
        Ok(_) => {
            let mut target = format!("{back}?feedback={}", if helpful { "solved" } else { "no" });
            if let Some(q) = f.q.as_deref().filter(|s| !s.trim().is_empty()) {
                target.push_str(&format!("&q={}", enc(q)));
            }
            Redirect::to(&target).into_response()
        }
        Err(e) => failure(&chrome, e, &back),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CheckQuery {
    #[serde(default)]
    pub title: Option<String>,
    /// Carried through from the request form so nothing typed is lost.
    #[serde(default)]
    pub details: Option<String>,
}

/// `GET /portal/request/check?title=`: before filing a request, show the
/// articles that may already answer it. Without matches, straight on to
/// the request form.
pub async fn request_check(State(st): State<AppState>, c: PageCaller, Query(q): Query<CheckQuery>) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    let title: String = q.title.as_deref().unwrap_or("").trim().chars().take(200).collect();
    if title.is_empty() {
        return Redirect::to("/portal/request/new").into_response();
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let input = SearchInput { query: title.clone(), limit: Some(5), category: None, kind: None };
    let out = match st.app.kb_search(&c.ctx, input, SearchSource::RequestCheck).await {
        Ok(o) => o,
        Err(e) => return failure(&chrome, e, &c.path),
    };
    let details: Option<String> =
        q.details.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(|d| d.chars().take(4000).collect());
    let continue_href = request_link(&title, details.as_deref());
    if out.items.is_empty() {
        return Redirect::to(&continue_href).into_response();
    }
    let sid = out.search_id.clone().unwrap_or_default();
    let markup = html! {
        h1 { "Check these articles first" }
        p class="lead" { "They may solve “" (title) "” right away. If not, continue to the request form." }
        h2 class="visually-hidden" { "Matching articles" }
        ol class="results stack" {
            @for item in &out.items {
                @let solved = (item.kind == DocKind::Article).then(|| html! {
                    form method="post" action="/portal/request/check/solved" class="row" {
                        input type="hidden" name="article_id" value=(item.id);
                        input type="hidden" name="search_id" value=(sid);
                        input type="hidden" name="title" value=(title);
                        button class="btn secondary small" type="submit" { "This solved my problem" }
                    }
                });
                (result_item(item, out.search_id.as_deref(), &title, solved))
            }
        }
        p class="row" {
            a class="btn" href=(continue_href) { "Continue to the request form" }
            a href="/portal/knowledge" { "Browse the knowledge base" }
        }
    };
    page(&chrome, "Check these articles first", Tab::Catalog, markup).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct SolvedForm {
    #[serde(default)]
    pub article_id: String,
    #[serde(default)]
    pub search_id: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

/// `POST /portal/request/check/solved`: record the deflection and show
/// the article that solved it.
pub async fn request_solved(State(st): State<AppState>, c: PageCaller, Form(f): Form<SolvedForm>) -> Response {
    if let Err(r) = c.signed_in() {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let can = match c.ctx.can::<tier0_app::caps::ItsmRead>() {
        Ok(can) => can,
        Err(e) => return failure(&chrome, e, &c.path),
    };
    let input = FeedbackInput {
        helpful: true,
        comment: None,
        solved: Some(true),
        search_id: f.search_id.clone(),
        query: f.title.clone(),
        source: Some("request_check".into()),
    };
    match st.app.article_feedback(can, &f.article_id, input).await {
        Ok(_) => Redirect::to(&format!("/portal/knowledge/{}?feedback=solved", enc(&f.article_id))).into_response(),
        Err(e) => failure(&chrome, e, &c.path),
    }
}
