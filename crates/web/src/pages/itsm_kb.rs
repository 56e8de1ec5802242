//! Knowledge authoring in the agent workspace (`/itsm/kb`): the article
//! list with its filters (drafts, published, archived, stale, mine), the
//! editor with a preview that works without JavaScript (a "Preview"
//! button; `/assets/kb-editor.js` makes it live), publishing, version
//! history, known errors, synonyms, and the questions nobody found an
//! answer to.

use super::knowledge::enc;
use super::{FieldOpts, PageCaller, Tab, error_page, field, notice, page};
use crate::AppState;
use crate::pages::layout::Chrome;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use std::collections::BTreeMap;
use tier0_app::kb::articles::{ArticleInput, ArticleListQuery, ArticlePatch};
use tier0_app::kb::known_errors::{KnownErrorInput, KnownErrorListQuery, KnownErrorPatch};
use tier0_app::kb::markdown;
use tier0_app::kb::search::{SynonymsInput, ZeroResultsQuery};
use tier0_app::{AppError, Can, Ctx, caps};
use tier0_domain::kb::{Article, ArticleStatus, KnownError, split_tags};

type Errors = BTreeMap<String, String>;

/// The caller as a KB author, or the response to send instead.
fn author<'a>(c: &'a PageCaller) -> Result<Can<'a, caps::KbWrite>, Response> {
    match c.ctx.can::<caps::KbWrite>() {
        Ok(can) => Ok(can),
        Err(AppError::Unauthenticated) => Err(super::login_redirect(&c.path)),
        Err(_) => {
            Err(error_page(StatusCode::FORBIDDEN, "Not allowed", "Knowledge authoring needs the kb:write permission."))
        }
    }
}

fn failure(chrome: &Chrome, title: &str, e: AppError) -> Response {
    match e {
        AppError::NotFound => error_page(StatusCode::NOT_FOUND, "Not found", "There is no such record."),
        other => {
            let api = crate::error::ApiError::from(other);
            (api.status, page(chrome, title, Tab::Itsm, html! { h1 { (title) } (notice("error", &api.message)) }))
                .into_response()
        }
    }
}

fn subnav(current: &str) -> Markup {
    let link = |href: &str, label: &str, key: &str| {
        html! { a href=(href) aria-current=[(current == key).then_some("page")] { (label) } }
    };
    html! {
        nav class="tabs subnav" aria-label="Knowledge" {
            (link("/itsm/kb", "Articles", "articles"))
            (link("/itsm/kb/known-errors", "Known errors", "known_errors"))
            (link("/itsm/kb/synonyms", "Synonyms", "synonyms"))
            (link("/portal/knowledge", "Portal view", "portal"))
        }
    }
}

fn status_pill(a: &Article) -> Markup {
    html! {
        span class={ "pill " (a.status.as_str()) } { (a.status.as_str()) }
        @if a.stale { " " span class="pill bad" title="Past its review date" { "review overdue" } }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub stale: Option<String>,
    #[serde(default)]
    pub mine: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /itsm/kb`.
pub async fn list(State(st): State<AppState>, c: PageCaller, Query(q): Query<ListQuery>) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let on = |v: &Option<String>| v.as_deref().is_some_and(|s| matches!(s, "1" | "true" | "on"));
    let (stale, mine) = (on(&q.stale), on(&q.mine));
    let status = q.status.clone().filter(|s| ArticleStatus::parse("status", s).is_ok());
    let query = ArticleListQuery {
        status: status.clone(),
        category: None,
        stale: Some(stale),
        mine: Some(mine),
        q: q.q.clone(),
        limit: Some(50),
        cursor: q.cursor.clone().filter(|s| !s.is_empty()),
    };
    let articles = match st.app.list_articles(&c.ctx, query).await {
        Ok(p) => p,
        Err(AppError::Validation(_)) => return Redirect::to("/itsm/kb").into_response(),
        Err(e) => return failure(&chrome, "Knowledge", e),
    };
    let my_stale = st.app.my_stale_articles(can).await.unwrap_or(0);
    let zero = st.app.kb_zero_results(can, &ZeroResultsQuery { days: Some(30), limit: Some(15) }).await.ok();
    let filter = |label: &str, href: &str, active: bool| {
        html! { a class={ "btn small " @if !active { "secondary" } } href=(href) aria-current=[active.then_some("page")] { (label) } }
    };
    let none = status.is_none() && !stale && !mine;
    let next_href = articles.next_cursor.as_ref().map(|cur| {
        let mut h = format!("/itsm/kb?cursor={}", enc(cur));
        if let Some(s) = &status {
            h.push_str(&format!("&status={s}"));
        }
        if stale {
            h.push_str("&stale=1");
        }
        if mine {
            h.push_str("&mine=1");
        }
        if let Some(t) = q.q.as_deref().filter(|t| !t.is_empty()) {
            h.push_str(&format!("&q={}", enc(t)));
        }
        h
    });
    let markup = html! {
        h1 { "Knowledge" }
        (subnav("articles"))
        @if my_stale > 0 {
            div class="notice warn" role="status" {
                strong { (my_stale) " of your articles " @if my_stale == 1 { "is" } @else { "are" } " past the review date." }
                " " a href="/itsm/kb?stale=1&mine=1" { "Review them" }
            }
        }
        div class="row" {
            a class="btn" href="/itsm/kb/new" { "New article" }
            span class="spacer" {}
            form method="get" action="/itsm/kb" class="searchbar" role="search" {
                label class="visually-hidden" for="kb-filter-q" { "Title contains" }
                input id="kb-filter-q" type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder="Title contains…" maxlength="200";
                button class="btn secondary" type="submit" { "Filter" }
            }
        }
        nav class="row filters" aria-label="Filters" {
            (filter("All", "/itsm/kb", none))
            (filter("Drafts", "/itsm/kb?status=draft", status.as_deref() == Some("draft")))
            (filter("Published", "/itsm/kb?status=published", status.as_deref() == Some("published")))
            (filter("Archived", "/itsm/kb?status=archived", status.as_deref() == Some("archived")))
            (filter("Review overdue", "/itsm/kb?stale=1", stale && !mine))
            (filter("Mine", "/itsm/kb?mine=1", mine && !stale))
        }
        div class="table-wrap" {
            table {
                caption class="visually-hidden" { "Articles" }
                thead { tr { th scope="col" { "Number" } th scope="col" { "Title" } th scope="col" { "Status" } th scope="col" { "Owner" } th scope="col" { "Review by" } th scope="col" { "Views" } th scope="col" { "Helpful" } th scope="col" { "Updated" } } }
                tbody {
                    @for a in &articles.items {
                        tr {
                            td { (a.number) }
                            td { a href={ "/itsm/kb/" (a.id) } { (a.title) } br; span class="meta" { (a.category) } }
                            td { (status_pill(a)) }
                            td { (a.owner_name) }
                            td { @if let Some(r) = a.review_by { (r.date_string()) } @else { "—" } }
                            td { (a.views) }
                            td { (a.helpful_yes) " / " (a.helpful_no) @if a.deflections > 0 { br; span class="meta" { (a.deflections) " solved" } } }
                            td { (a.updated_at.date_string()) }
                        }
                    }
                    @if articles.items.is_empty() { tr { td colspan="8" { "No articles match." } } }
                }
            }
        }
        @if let Some(h) = next_href { p { a href=(h) { "Next page" } } }
        @if let Some(z) = zero {
            section aria-labelledby="zero" class="stack" {
                h2 id="zero" { "Searches that found nothing (last 30 days)" }
                p class="meta" {
                    (z.summary.searches) " searches, " (z.summary.zero_result) " without results, "
                    (z.summary.clicks) " results opened, " (z.summary.deflections) " problems solved by an article."
                }
                @if z.items.is_empty() { p { "None — every search found something." } } @else {
                    div class="table-wrap" {
                        table {
                            caption class="visually-hidden" { "Zero-result searches" }
                            thead { tr { th scope="col" { "Search" } th scope="col" { "Times" } th scope="col" { "Last" } th scope="col" { span class="visually-hidden" { "Action" } } } }
                            tbody {
                                @for item in &z.items {
                                    tr {
                                        td { (item.query) }
                                        td { (item.count) }
                                        td { (item.last_at.display_short()) }
                                        td { a href={ "/itsm/kb/new?title=" (enc(&item.query)) } { "Write an article" } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&chrome, "Knowledge", Tab::Itsm, markup).into_response()
}

/// What the article editor shows.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct ArticleForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default)]
    pub review_by: String,
    #[serde(default)]
    pub body_markdown: String,
    #[serde(default)]
    pub version: Option<i64>,
    /// `save`, `preview` or `publish`.
    #[serde(default)]
    pub action: String,
}

impl ArticleForm {
    fn from_article(a: &Article) -> Self {
        Self {
            title: a.title.clone(),
            category: a.category.clone(),
            tags: a.tags.join(", "),
            review_by: a.review_by.map(|r| r.date_string()).unwrap_or_default(),
            body_markdown: a.body_markdown.clone(),
            version: Some(a.version),
            action: String::new(),
        }
    }
}

fn editor(
    action: &str,
    f: &ArticleForm,
    errors: &Errors,
    preview: Option<&str>,
    can_publish: bool,
    is_new: bool,
) -> Markup {
    let body_err = errors.get("body_markdown");
    html! {
        form method="post" action=(action) class="editor" novalidate {
            @if let Some(v) = f.version { input type="hidden" name="version" value=(v); }
            div class="cols" {
                div {
                    (field("Title", "title", "text", &f.title, errors.get("title"), FieldOpts::required().max(200)))
                    (field("Category", "category", "text", &f.category, errors.get("category"), FieldOpts::default().max(60).hint("Empty means “General”.")))
                    (field("Tags", "tags", "text", &f.tags, errors.get("tags"), FieldOpts::default().hint("Separated by commas, e.g. vpn, remote work.")))
                    (field("Review by", "review_by", "date", &f.review_by, errors.get("review_by"), FieldOpts::default().hint("After this date the article is flagged to its owner for review.")))
                }
            }
            div class={ "field" @if body_err.is_some() { " invalid" } } {
                label for="f-body_markdown" { "Body " span class="optional" { "(Markdown)" } }
                span class="hint" id="f-body_markdown-hint" { "Headings with #, lists with - or 1., **bold**, [links](https://…). Scripts and styles are removed." }
                textarea id="f-body_markdown" name="body_markdown" rows="18" maxlength="100000" data-preview-target="kb-preview"
                    aria-describedby={ "f-body_markdown-hint" @if body_err.is_some() { " f-body_markdown-error" } }
                    aria-invalid=[body_err.map(|_| "true")] { (f.body_markdown) }
                @if let Some(e) = body_err { div class="field-error" id="f-body_markdown-error" role="alert" { "Body " (e) } }
            }
            div class="row" {
                button class="btn" type="submit" name="action" value="save" { @if is_new { "Save draft" } @else { "Save" } }
                button class="btn secondary" type="submit" name="action" value="preview" { "Preview" }
                @if can_publish && is_new { button class="btn secondary" type="submit" name="action" value="publish" { "Save and publish" } }
            }
            section class="card preview" aria-labelledby="preview-h" aria-live="polite" {
                h2 id="preview-h" { "Preview" }
                div id="kb-preview" class="prose" {
                    @if let Some(p) = preview { (PreEscaped(p)) } @else { p class="meta" { "Press “Preview” to see the article as readers will." } }
                }
            }
        }
        script src="/assets/kb-editor.js" defer {}
    }
}

fn validation_errors(e: &AppError) -> Option<Errors> {
    match e {
        AppError::Validation(v) => Some(v.fields.clone()),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    pub title: Option<String>,
}

/// `GET /itsm/kb/new`.
pub async fn new_form(State(st): State<AppState>, c: PageCaller, Query(q): Query<NewQuery>) -> Response {
    if let Err(r) = author(&c) {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let f = ArticleForm { title: q.title.unwrap_or_default().chars().take(200).collect(), ..ArticleForm::default() };
    let markup = html! {
        h1 { "New article" }
        (subnav("articles"))
        (editor("/itsm/kb/new", &f, &Errors::new(), None, c.ctx.allows("kb:publish"), true))
    };
    page(&chrome, "New article", Tab::Itsm, markup).into_response()
}

/// `POST /itsm/kb/new`.
pub async fn create(State(st): State<AppState>, c: PageCaller, Form(f): Form<ArticleForm>) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let can_publish = c.ctx.allows("kb:publish");
    let render = |errors: &Errors, preview: Option<&str>, msg: Option<Markup>, status: StatusCode| {
        let markup = html! {
            h1 { "New article" }
            (subnav("articles"))
            @if let Some(m) = msg { (m) }
            (editor("/itsm/kb/new", &f, errors, preview, can_publish, true))
        };
        (status, page(&chrome, "New article", Tab::Itsm, markup)).into_response()
    };
    if f.action == "preview" {
        return render(&Errors::new(), Some(&markdown::render(&f.body_markdown)), None, StatusCode::OK);
    }
    let input = ArticleInput {
        title: f.title.clone(),
        body_markdown: Some(f.body_markdown.clone()),
        category: Some(f.category.clone()),
        tags: Some(split_tags(&f.tags)),
        review_by: Some(f.review_by.clone()),
        owner_id: None,
        status: Some(if f.action == "publish" { "published" } else { "draft" }.into()),
    };
    match st.app.create_article(can, input).await {
        Ok(a) => Redirect::to(&format!("/itsm/kb/{}?saved=1", a.id)).into_response(),
        Err(e) => match validation_errors(&e) {
            Some(errors) => render(
                &errors,
                None,
                Some(notice("error", "Please correct the fields marked below.")),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            None => {
                let api = crate::error::ApiError::from(e);
                render(&Errors::new(), None, Some(notice("error", &api.message)), api.status)
            }
        },
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

fn article_page(
    chrome: &Chrome,
    ctx: &Ctx,
    a: &Article,
    f: &ArticleForm,
    errors: &Errors,
    preview: Option<&str>,
    msg: Option<Markup>,
) -> Markup {
    let can_publish = ctx.allows("kb:publish");
    let status_button = |to: &str, label: &str, class: &str| {
        html! {
            form method="post" action={ "/itsm/kb/" (a.id) "/status" } {
                input type="hidden" name="status" value=(to);
                button class={ "btn small " (class) } type="submit" { (label) }
            }
        }
    };
    let body = html! {
        nav aria-label="Breadcrumb" class="meta" { a href="/itsm/kb" { "Knowledge" } " › " (a.number) }
        h1 { (a.title) }
        p class="meta row" {
            (a.number) " · " (status_pill(a)) " · version " (a.version) " · owner " (a.owner_name)
            " · " (a.views) " views · " (a.helpful_yes) " helpful, " (a.helpful_no) " not · " (a.deflections) " solved"
        }
        @if let Some(m) = msg { (m) }
        @if a.status == ArticleStatus::Published && !can_publish {
            (notice("info", "This article is published. Editing it needs the kb:publish permission; ask a publisher."))
        }
        div class="row" {
            a href={ "/portal/knowledge/" (a.id) } { "View on the portal" }
            a href={ "/itsm/kb/" (a.id) "/history" } { "History" }
            span class="spacer" {}
            @if can_publish {
                @match a.status {
                    ArticleStatus::Draft => { (status_button("published", "Publish", "")) (status_button("archived", "Archive", "secondary")) }
                    ArticleStatus::Published => { (status_button("draft", "Unpublish", "secondary")) (status_button("archived", "Archive", "secondary")) }
                    ArticleStatus::Archived => { (status_button("draft", "Restore as draft", "secondary")) }
                }
            }
        }
        (editor(&format!("/itsm/kb/{}", a.id), f, errors, preview, can_publish, false))
    };
    page(chrome, &a.title, Tab::Itsm, body)
}

/// `GET /itsm/kb/{id}`.
pub async fn edit_form(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> Response {
    if let Err(r) = author(&c) {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let a = match st.app.get_article(&c.ctx, &id, None).await {
        Ok(a) => a,
        Err(e) => return failure(&chrome, "Knowledge", e),
    };
    let f = ArticleForm::from_article(&a);
    let msg = q.saved.is_some().then(|| notice("ok", "Saved."));
    article_page(&chrome, &c.ctx, &a, &f, &Errors::new(), Some(&a.body_html), msg).into_response()
}

/// `POST /itsm/kb/{id}`: save or preview.
pub async fn update(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(f): Form<ArticleForm>,
) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let a = match st.app.get_article(&c.ctx, &id, None).await {
        Ok(a) => a,
        Err(e) => return failure(&chrome, "Knowledge", e),
    };
    if f.action == "preview" {
        let html = markdown::render(&f.body_markdown);
        return article_page(&chrome, &c.ctx, &a, &f, &Errors::new(), Some(&html), None).into_response();
    }
    let patch = ArticlePatch {
        title: Some(f.title.clone()),
        body_markdown: Some(f.body_markdown.clone()),
        category: Some(f.category.clone()),
        tags: Some(split_tags(&f.tags)),
        review_by: Some(Some(f.review_by.clone())),
        owner_id: None,
        status: None,
        if_version: f.version,
    };
    match st.app.update_article(can, &id, patch).await {
        Ok(a) => Redirect::to(&format!("/itsm/kb/{}?saved=1", a.id)).into_response(),
        Err(e) => {
            let (status, errors, msg) = match validation_errors(&e) {
                Some(errors) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, errors, "Please correct the fields marked below.".to_owned())
                }
                None => {
                    let api = crate::error::ApiError::from(e);
                    (api.status, Errors::new(), api.message)
                }
            };
            (status, article_page(&chrome, &c.ctx, &a, &f, &errors, None, Some(notice("error", &msg)))).into_response()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    pub status: String,
}

/// `POST /itsm/kb/{id}/status`: publish, unpublish, archive, restore.
pub async fn set_status(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let patch = ArticlePatch { status: Some(f.status), ..ArticlePatch::default() };
    match st.app.update_article(can, &id, patch).await {
        Ok(a) => Redirect::to(&format!("/itsm/kb/{}?saved=1", a.id)).into_response(),
        Err(e) => failure(&chrome, "Knowledge", e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    pub v: Option<i64>,
}

/// `GET /itsm/kb/{id}/history?v=`.
pub async fn history(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let a = match st.app.get_article(&c.ctx, &id, None).await {
        Ok(a) => a,
        Err(e) => return failure(&chrome, "History", e),
    };
    let revs = match st.app.article_versions(can, &id).await {
        Ok(r) => r.items,
        Err(e) => return failure(&chrome, "History", e),
    };
    let shown = q.v.and_then(|v| revs.iter().find(|r| r.version == v));
    let markup = html! {
        nav aria-label="Breadcrumb" class="meta" { a href="/itsm/kb" { "Knowledge" } " › " a href={ "/itsm/kb/" (a.id) } { (a.number) } " › History" }
        h1 { "History of " (a.title) }
        ol class="timeline" reversed {
            @for r in &revs {
                li {
                    strong { "Version " (r.version) } " — " (r.actor) ", " time datetime=(r.at.to_rfc3339()) { (r.at.display_short()) }
                    br;
                    span class="meta" { "Changed: " (r.changes.join(", ")) }
                    " · " a href={ "/itsm/kb/" (a.id) "/history?v=" (r.version) } { "View this version" }
                }
            }
        }
        @if let Some(r) = shown {
            section class="card" aria-labelledby="ver" {
                h2 id="ver" { "Version " (r.version) ": " (r.snapshot["title"].as_str().unwrap_or("")) }
                p class="meta" { "Status: " (r.snapshot["status"].as_str().unwrap_or("")) " · Category: " (r.snapshot["category"].as_str().unwrap_or("")) }
                div class="prose" { (PreEscaped(markdown::render(r.snapshot["body_markdown"].as_str().unwrap_or("")))) }
            }
        }
    };
    page(&chrome, "History", Tab::Itsm, markup).into_response()
}

// ----- Known errors -----

#[derive(Debug, Default, Deserialize)]
pub struct KeListQuery {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `GET /itsm/kb/known-errors`.
pub async fn known_errors(State(st): State<AppState>, c: PageCaller, Query(q): Query<KeListQuery>) -> Response {
    if let Err(r) = author(&c) {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let list = match st
        .app
        .list_known_errors(
            &c.ctx,
            KnownErrorListQuery { q: q.q.clone(), limit: Some(50), cursor: q.cursor.filter(|s| !s.is_empty()) },
        )
        .await
    {
        Ok(l) => l,
        Err(e) => return failure(&chrome, "Known errors", e),
    };
    let markup = html! {
        h1 { "Known errors" }
        (subnav("known_errors"))
        div class="row" { a class="btn" href="/itsm/kb/known-errors/new" { "New known error" } }
        div class="table-wrap" {
            table {
                caption class="visually-hidden" { "Known errors" }
                thead { tr { th scope="col" { "Number" } th scope="col" { "Title" } th scope="col" { "Visibility" } th scope="col" { "Problem" } th scope="col" { "Updated" } } }
                tbody {
                    @for k in &list.items {
                        tr {
                            td { (k.number) }
                            td { a href={ "/itsm/kb/known-errors/" (k.id) } { (k.title) } }
                            td { @if k.public { span class="pill published" { "public" } } @else { span class="pill draft" { "internal" } } }
                            td { (k.problem_id.as_deref().unwrap_or("—")) }
                            td { (k.updated_at.date_string()) }
                        }
                    }
                    @if list.items.is_empty() { tr { td colspan="5" { "No known errors yet." } } }
                }
            }
        }
        @if let Some(cur) = &list.next_cursor { p { a href={ "/itsm/kb/known-errors?cursor=" (enc(cur)) } { "Next page" } } }
    };
    page(&chrome, "Known errors", Tab::Itsm, markup).into_response()
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct KeForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub symptoms: String,
    #[serde(default)]
    pub workaround: String,
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub problem_id: String,
    #[serde(default)]
    pub public: Option<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

impl KeForm {
    fn from_ke(k: &KnownError) -> Self {
        Self {
            title: k.title.clone(),
            symptoms: k.symptoms.clone(),
            workaround: k.workaround.clone(),
            root_cause: k.root_cause.clone().unwrap_or_default(),
            problem_id: k.problem_id.clone().unwrap_or_default(),
            public: k.public.then(|| "on".into()),
            version: Some(k.version),
        }
    }
}

fn ke_editor(action: &str, f: &KeForm, errors: &Errors, can_publish: bool) -> Markup {
    html! {
        form method="post" action=(action) class="stack editor" novalidate {
            @if let Some(v) = f.version { input type="hidden" name="version" value=(v); }
            (field("Title", "title", "text", &f.title, errors.get("title"), FieldOpts::required().max(200)))
            (field("Symptoms", "symptoms", "textarea", &f.symptoms, errors.get("symptoms"), FieldOpts::required().hint("What people notice, in their words (Markdown).")))
            (field("Workaround", "workaround", "textarea", &f.workaround, errors.get("workaround"), FieldOpts::default().hint("How to get going until it is fixed (Markdown).")))
            (field("Root cause", "root_cause", "textarea", &f.root_cause, errors.get("root_cause"), FieldOpts::default().hint("Staff only; never shown to requesters or searched.")))
            (field("Problem reference", "problem_id", "text", &f.problem_id, errors.get("problem_id"), FieldOpts::default().max(64).hint("The problem record this belongs to, e.g. PRB-12.")))
            @if can_publish {
                div class="field" {
                    label class="check" { input type="checkbox" name="public" value="on" checked[f.public.is_some()]; "Public: requesters can find and read it" }
                }
            } @else if f.public.is_some() {
                input type="hidden" name="public" value="on";
                p class="meta" { "Public. Changing that needs the kb:publish permission." }
            }
            button class="btn" type="submit" { "Save" }
        }
    }
}

/// `GET /itsm/kb/known-errors/new`.
pub async fn ke_new_form(State(st): State<AppState>, c: PageCaller) -> Response {
    if let Err(r) = author(&c) {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let markup = html! {
        h1 { "New known error" }
        (subnav("known_errors"))
        (ke_editor("/itsm/kb/known-errors/new", &KeForm::default(), &Errors::new(), c.ctx.allows("kb:publish")))
    };
    page(&chrome, "New known error", Tab::Itsm, markup).into_response()
}

fn opt(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `POST /itsm/kb/known-errors/new`.
pub async fn ke_create(State(st): State<AppState>, c: PageCaller, Form(f): Form<KeForm>) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let input = KnownErrorInput {
        title: f.title.clone(),
        symptoms: f.symptoms.clone(),
        workaround: opt(&f.workaround),
        root_cause: opt(&f.root_cause),
        problem_id: opt(&f.problem_id),
        public: Some(f.public.is_some()),
    };
    match st.app.create_known_error(can, input).await {
        Ok(k) => Redirect::to(&format!("/itsm/kb/known-errors/{}?saved=1", k.id)).into_response(),
        Err(e) => {
            let (status, errors, msg) = match validation_errors(&e) {
                Some(errors) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, errors, "Please correct the fields marked below.".to_owned())
                }
                None => {
                    let api = crate::error::ApiError::from(e);
                    (api.status, Errors::new(), api.message)
                }
            };
            let markup = html! {
                h1 { "New known error" }
                (subnav("known_errors"))
                (notice("error", &msg))
                (ke_editor("/itsm/kb/known-errors/new", &f, &errors, c.ctx.allows("kb:publish")))
            };
            (status, page(&chrome, "New known error", Tab::Itsm, markup)).into_response()
        }
    }
}

async fn ke_page(
    st: &AppState,
    c: &PageCaller,
    chrome: &Chrome,
    k: &KnownError,
    f: &KeForm,
    errors: &Errors,
    msg: Option<Markup>,
) -> Markup {
    let history = match c.ctx.can::<caps::KbWrite>() {
        Ok(can) => st.app.known_error_versions(can, k.id.as_str()).await.map(|r| r.items).unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let body = html! {
        nav aria-label="Breadcrumb" class="meta" { a href="/itsm/kb/known-errors" { "Known errors" } " › " (k.number) }
        h1 { (k.title) }
        p class="meta" {
            (k.number) " · version " (k.version) " · "
            @if k.public { span class="pill published" { "public" } } @else { span class="pill draft" { "internal" } }
            " · " a href={ "/portal/knowledge/" (k.id) } { "View on the portal" }
        }
        @if let Some(m) = msg { (m) }
        (ke_editor(&format!("/itsm/kb/known-errors/{}", k.id), f, errors, c.ctx.allows("kb:publish")))
        h2 { "History" }
        ol class="timeline" reversed {
            @for r in &history {
                li { strong { "Version " (r.version) } " — " (r.actor) ", " (r.at.display_short()) br; span class="meta" { "Changed: " (r.changes.join(", ")) } }
            }
        }
    };
    page(chrome, &k.title, Tab::Itsm, body)
}

/// `GET /itsm/kb/known-errors/{id}`.
pub async fn ke_edit_form(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Query(q): Query<EditQuery>,
) -> Response {
    if let Err(r) = author(&c) {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let k = match st.app.known_error_for(&c.ctx, &id).await {
        Ok(k) => k,
        Err(e) => return failure(&chrome, "Known error", e),
    };
    let msg = q.saved.is_some().then(|| notice("ok", "Saved."));
    ke_page(&st, &c, &chrome, &k, &KeForm::from_ke(&k), &Errors::new(), msg).await.into_response()
}

/// `POST /itsm/kb/known-errors/{id}`.
pub async fn ke_update(
    State(st): State<AppState>,
    c: PageCaller,
    Path(id): Path<String>,
    Form(f): Form<KeForm>,
) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let k = match st.app.known_error_for(&c.ctx, &id).await {
        Ok(k) => k,
        Err(e) => return failure(&chrome, "Known error", e),
    };
    let patch = KnownErrorPatch {
        title: Some(f.title.clone()),
        symptoms: Some(f.symptoms.clone()),
        workaround: Some(f.workaround.clone()),
        root_cause: Some(opt(&f.root_cause)),
        problem_id: Some(opt(&f.problem_id)),
        public: Some(f.public.is_some()),
        if_version: f.version,
    };
    match st.app.update_known_error(can, &id, patch).await {
        Ok(k) => Redirect::to(&format!("/itsm/kb/known-errors/{}?saved=1", k.id)).into_response(),
        Err(e) => {
            let (status, errors, msg) = match validation_errors(&e) {
                Some(errors) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, errors, "Please correct the fields marked below.".to_owned())
                }
                None => {
                    let api = crate::error::ApiError::from(e);
                    (api.status, Errors::new(), api.message)
                }
            };
            (status, ke_page(&st, &c, &chrome, &k, &f, &errors, Some(notice("error", &msg))).await).into_response()
        }
    }
}

// ----- Synonyms -----

#[derive(Debug, Default, Deserialize)]
pub struct SynonymsForm {
    #[serde(default)]
    pub groups: String,
    /// `save` or `reset`.
    #[serde(default)]
    pub action: String,
}

fn synonyms_page(
    chrome: &Chrome,
    ctx: &Ctx,
    text: &str,
    is_default: bool,
    error: Option<&String>,
    msg: Option<Markup>,
) -> Markup {
    let can_publish = ctx.allows("kb:publish");
    let body = html! {
        h1 { "Search synonyms" }
        (subnav("synonyms"))
        p class="lead" { "Words and phrases people use for the same thing. A search for one also finds the others. One group per line, separated by commas." }
        @if let Some(m) = msg { (m) }
        @if is_default { (notice("info", "These are the built-in defaults.")) }
        form method="post" action="/itsm/kb/synonyms" class="stack" novalidate {
            div class={ "field" @if error.is_some() { " invalid" } } {
                label for="f-groups" { "Synonym groups" }
                textarea id="f-groups" name="groups" rows="20" readonly[!can_publish] aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "f-groups-error")] { (text) }
                @if let Some(e) = error { div class="field-error" id="f-groups-error" role="alert" { "Synonym groups " (e) } }
            }
            @if can_publish {
                div class="row" {
                    button class="btn" type="submit" name="action" value="save" { "Save" }
                    button class="btn secondary" type="submit" name="action" value="reset" { "Restore the defaults" }
                }
            } @else {
                p class="meta" { "Changing synonyms needs the kb:publish permission." }
            }
        }
    };
    page(chrome, "Search synonyms", Tab::Itsm, body)
}

fn groups_text(groups: &[Vec<String>]) -> String {
    groups.iter().map(|g| g.join(", ")).collect::<Vec<_>>().join("\n")
}

/// `GET /itsm/kb/synonyms`.
pub async fn synonyms(State(st): State<AppState>, c: PageCaller, Query(q): Query<EditQuery>) -> Response {
    let can = match author(&c) {
        Ok(can) => can,
        Err(r) => return r,
    };
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    match st.app.kb_synonyms(can).await {
        Ok(s) => {
            let msg = q.saved.is_some().then(|| notice("ok", "Saved. Searches use the new synonyms within a second."));
            synonyms_page(&chrome, &c.ctx, &groups_text(&s.groups), s.is_default, None, msg).into_response()
        }
        Err(e) => failure(&chrome, "Search synonyms", e),
    }
}

/// `POST /itsm/kb/synonyms`.
pub async fn save_synonyms(State(st): State<AppState>, c: PageCaller, Form(f): Form<SynonymsForm>) -> Response {
    if let Err(r) = author(&c) {
        return r;
    }
    let chrome = Chrome::for_ctx(&st, &c.ctx).await;
    let can = match c.ctx.can::<caps::KbPublish>() {
        Ok(can) => can,
        Err(e) => return failure(&chrome, "Search synonyms", e),
    };
    let groups = if f.action == "reset" {
        None
    } else {
        Some(
            f.groups
                .lines()
                .map(|l| l.split(',').map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect::<Vec<_>>())
                .filter(|g| !g.is_empty())
                .collect::<Vec<_>>(),
        )
    };
    match st.app.set_kb_synonyms(can, SynonymsInput { groups }).await {
        Ok(_) => Redirect::to("/itsm/kb/synonyms?saved=1").into_response(),
        Err(e) => match validation_errors(&e) {
            Some(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                synonyms_page(&chrome, &c.ctx, &f.groups, false, errors.get("groups"), None),
            )
                .into_response(),
            None => failure(&chrome, "Search synonyms", e),
        },
    }
}
