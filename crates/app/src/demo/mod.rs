//! `tier0 serve --demo`: fill the default organisation with a realistic
//! service desk — people for every role, a service catalog with forms and
//! an approval workflow, a knowledge base, known errors, a status page and
//! requests in every state — so a first-time visitor has something to look
//! at and sign in to.
//!
//! Everything is created through the same use cases the pages and the API
//! call, as the demo people themselves (the admin builds the catalog, the
//! operator writes the knowledge base, the requesters file requests, the
//! manager approves, the fulfiller works them), so every rule and every
//! validation applies and the audit log reads like a real history.
//!
//! The content is data, not code:
//!
//! - `content.json`: people, catalog categories, workflows and items (with
//!   their forms), known errors, the status page, the portal's name and the
//!   requests with the steps that take each to its state;
//! - `articles.md`: the knowledge base, one article after another (the
//!   format is described at the top of that file).
//!
//! Seeding runs once, on a default organisation that has no accounts yet.
//! Later starts find the demo admin and only report the sign-ins again.

use crate::auth::accounts::{InviteInput, InviteListQuery, RegisterInput, SignupInput};
use crate::auth::sessions::SessionOut;
use crate::error::{AppError, AppResult};
use crate::itsm::approvals::{ApprovalQuery, DecisionInput};
use crate::itsm::catalog::{CatalogItemInput, CategoryInput};
use crate::itsm::comments::CommentInput;
use crate::itsm::requests::{NewRequestInput, RequestPatch, TransitionInput};
use crate::itsm::workflows::WorkflowInput;
use crate::kb::articles::ArticleInput;
use crate::kb::known_errors::KnownErrorInput;
use crate::portal::announcements::AnnouncementInput;
use crate::portal::settings::PortalSettingsInput;
use crate::portal::status::{MaintenanceInput, NoteInput, ServiceInput};
use crate::tenants::Tenant;
use crate::{App, Ctx, caps};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tier0_domain::Email;
use tier0_domain::itsm::form::FormFieldInput;
use tier0_domain::itsm::workflow::{ApproversInput, StageInput};

const CONTENT: &str = include_str!("content.json");
const ARTICLES: &str = include_str!("articles.md");

/// The organisation the demo fills.
pub const DEMO_TENANT: &str = "default";

/// One demo account, as printed at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoSignIn {
    /// What the person is for, e.g. "Requester" or "Manager (approves onboarding)".
    pub label: String,
    /// The built-in role they hold.
    pub role: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

/// What was added by a start that seeded the demo.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    pub users: usize,
    pub categories: usize,
    pub catalog_items: usize,
    pub articles: usize,
    pub known_errors: usize,
    pub services: usize,
    pub requests: usize,
}

/// The result of [`App::seed_demo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoOutcome {
    /// The demo data was added now.
    Seeded { sign_ins: Vec<DemoSignIn>, summary: DemoSummary },
    /// An earlier start added it; nothing was changed.
    AlreadySeeded { sign_ins: Vec<DemoSignIn> },
    /// Nothing was added, for the reason given (a sentence).
    NotAdded { reason: String },
}

impl DemoOutcome {
    /// The demo accounts that can be signed in to (empty when not added).
    pub fn sign_ins(&self) -> &[DemoSignIn] {
        match self {
            Self::Seeded { sign_ins, .. } | Self::AlreadySeeded { sign_ins } => sign_ins,
            Self::NotAdded { .. } => &[],
        }
    }
}

// ---- The content files ---------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Content {
    /// One password for every demo account.
    password: String,
    portal: PortalContent,
    /// In the order they are printed. The (first) admin registers the
    /// organisation and invites the others; keys name people elsewhere in
    /// the file.
    users: Vec<UserContent>,
    categories: Vec<CategoryContent>,
    workflows: Vec<WorkflowContent>,
    items: Vec<ItemContent>,
    known_errors: Vec<KnownErrorInput>,
    status: StatusContent,
    requests: Vec<RequestContent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalContent {
    name: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserContent {
    key: String,
    label: String,
    role: String,
    name: String,
    email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryContent {
    key: String,
    name: String,
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowContent {
    key: String,
    name: String,
    /// Each stage: people (by key) who may approve; any one of them decides.
    stages: Vec<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemContent {
    name: String,
    category: String,
    icon: String,
    description: String,
    target_hours: i64,
    #[serde(default)]
    workflow: Option<String>,
    #[serde(default)]
    fields: Vec<FormFieldInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusContent {
    services: Vec<ServiceContent>,
    maintenance: Vec<MaintenanceContent>,
    notes: Vec<NoteContent>,
    announcements: Vec<AnnouncementContent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceContent {
    name: String,
    description: String,
    state: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceContent {
    title: String,
    note: String,
    /// Starts this many days after the day of seeding, at `at_hour_utc`.
    in_days: i64,
    at_hour_utc: i64,
    duration_hours: i64,
    services: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteContent {
    service: String,
    body: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnouncementContent {
    body: String,
    #[serde(default)]
    link: Option<String>,
    severity: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestContent {
    /// Who files it (a person's key).
    by: String,
    /// Filed on behalf of someone else (agents only).
    #[serde(default, rename = "for")]
    for_whom: Option<String>,
    /// A catalog item, by name.
    #[serde(default)]
    item: Option<String>,
    title: String,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    /// Form values; a string `today+N` (or `today-N`) becomes the date N
    /// days from the moment of seeding.
    #[serde(default)]
    fields: Option<serde_json::Value>,
    #[serde(default)]
    also_create_incident: bool,
    /// What happens to it next, in order.
    #[serde(default)]
    steps: Vec<Step>,
    /// The status it must end in (checked, so the file cannot drift from
    /// the state machine unnoticed).
    expect: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Who acts (a person's key).
    #[serde(rename = "as")]
    actor: String,
    /// `assign` (to `to`, a person's key), `transition` (to the status
    /// `to`, with `text` as a public comment), `comment` (public `text`),
    /// `note` (an internal note), `approve` or `reject` (with `text`).
    #[serde(rename = "do")]
    action: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

/// One knowledge article of `articles.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ArticleContent {
    title: String,
    category: String,
    tags: Vec<String>,
    /// Days from the moment of seeding; negative means the review is
    /// overdue (the article shows as stale to its owner).
    review_in_days: i64,
    /// A person's key.
    owner: String,
    body: String,
}

const DEFAULT_REVIEW_DAYS: i64 = 180;
const DEFAULT_OWNER: &str = "operator";

/// Parse `articles.md`: each article starts with a `# Title` line (outside
/// code fences), followed by `key: value` lines up to the first blank
/// line (`category`, `tags` comma-separated, optional `review_in_days`
/// and `owner`), then its Markdown body. Text before the first article is
/// a comment for editors.
fn parse_articles(text: &str) -> Result<Vec<ArticleContent>, String> {
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && let Some(title) = line.strip_prefix("# ") {
            blocks.push((title.trim().to_owned(), Vec::new()));
        } else if let Some((_, lines)) = blocks.last_mut() {
            lines.push(line);
        }
    }
    let mut out = Vec::with_capacity(blocks.len());
    for (title, lines) in blocks {
        let mut meta: HashMap<&str, &str> = HashMap::new();
        let mut rest = lines.as_slice();
        while let Some((first, tail)) = rest.split_first() {
            rest = tail;
            if first.trim().is_empty() {
                break;
            }
            let (k, v) =
                first.split_once(':').ok_or_else(|| format!("{title:?}: expected `key: value`, got {first:?}"))?;
            meta.insert(k.trim(), v.trim());
        }
        let known = ["category", "tags", "review_in_days", "owner"];
        if let Some(k) = meta.keys().find(|k| !known.contains(k)) {
            return Err(format!("{title:?}: unknown key {k:?}"));
        }
        let category = meta.get("category").ok_or_else(|| format!("{title:?}: category is missing"))?.to_string();
        let tags = meta
            .get("tags")
            .map(|t| t.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let review_in_days = match meta.get("review_in_days") {
            Some(d) => d.parse().map_err(|_| format!("{title:?}: review_in_days must be a number of days"))?,
            None => DEFAULT_REVIEW_DAYS,
        };
        let owner = meta.get("owner").copied().unwrap_or(DEFAULT_OWNER).to_owned();
        let body = rest.join("\n").trim().to_owned();
        if body.is_empty() {
            return Err(format!("{title:?}: the article has no body"));
        }
        out.push(ArticleContent { title, category, tags, review_in_days, owner, body });
    }
    Ok(out)
}

fn load() -> AppResult<(Content, Vec<ArticleContent>)> {
    let content: Content =
        serde_json::from_str(CONTENT).map_err(|e| AppError::internal(format!("demo content.json: {e}")))?;
    let articles = parse_articles(ARTICLES).map_err(|e| AppError::internal(format!("demo articles.md: {e}")))?;
    Ok((content, articles))
}

// ---- Seeding -------------------------------------------------------------------

/// A demo person with a signed-in context.
struct Person {
    email: String,
    ctx: Ctx,
}

/// People by key.
struct People(HashMap<String, Person>);

impl People {
    fn get(&self, key: &str) -> AppResult<&Person> {
        self.0.get(key).ok_or_else(|| AppError::internal(format!("demo content names an unknown person {key:?}")))
    }

    fn ctx(&self, key: &str) -> AppResult<&Ctx> {
        Ok(&self.get(key)?.ctx)
    }

    fn email(&self, key: &str) -> AppResult<&str> {
        Ok(&self.get(key)?.email)
    }
}

fn sign_ins(c: &Content) -> Vec<DemoSignIn> {
    c.users
        .iter()
        .map(|u| DemoSignIn {
            label: u.label.clone(),
            role: u.role.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            password: c.password.clone(),
        })
        .collect()
}

/// The `token` of a sign-up link.
fn link_token(url: &str) -> AppResult<String> {
    url.split_once("token=").map(|(_, t)| t.to_owned()).ok_or_else(|| AppError::internal("invite link without a token"))
}

/// Replace `today±N` strings in form values by dates relative to `now`.
fn resolve_dates(v: &serde_json::Value, now: tier0_domain::Timestamp) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => match s
            .strip_prefix("today")
            .and_then(|d| if d.is_empty() { Some(0) } else { d.replace('+', "").parse::<i64>().ok() })
        {
            Some(days) => Value::String(now.plus_secs(days * 86_400).date_string()),
            None => v.clone(),
        },
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (k.clone(), resolve_dates(x, now))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|x| resolve_dates(x, now)).collect()),
        other => other.clone(),
    }
}

fn missing(what: &str, name: &str) -> AppError {
    AppError::internal(format!("demo content names an unknown {what} {name:?}"))
}

impl App {
    /// Fill the default organisation with the demo data, once: only while
    /// it has no accounts. When the demo admin already exists, nothing is
    /// changed and the sign-ins are returned again; when other accounts
    /// exist, nothing is added.
    pub async fn seed_demo(&self) -> AppResult<DemoOutcome> {
        let (content, articles) = load()?;
        let Some(tenant) = self.tenant_by_slug(DEMO_TENANT).await? else {
            return Ok(DemoOutcome::NotAdded { reason: "there is no default organisation to put it in".into() });
        };
        let first = content
            .users
            .iter()
            .find(|u| u.role == "admin")
            .ok_or_else(|| AppError::internal("demo content has no admin"))?;
        if let Some(outcome) = self.demo_already_there(&tenant, &content, &first.email).await? {
            return Ok(outcome);
        }
        let system = self.system_context(tenant.clone());
        let admin = match self
            .register_first_admin(
                &system,
                RegisterInput {
                    email: first.email.clone(),
                    password: content.password.clone(),
                    name: first.name.clone(),
                },
            )
            .await
        {
            Ok(s) => s,
            // Another node started with --demo at the same moment.
            Err(AppError::Forbidden { code: "registration_closed", .. }) => {
                return Ok(self.demo_already_there(&tenant, &content, &first.email).await?.unwrap_or_else(|| {
                    DemoOutcome::NotAdded { reason: "the organisation already has accounts".into() }
                }));
            }
            Err(e) => return Err(e),
        };
        let admin_ctx = self.session_ctx(&tenant, &admin).await?;
        // The administrator exists now: the first-admin link created with
        // the organisation must not stay usable.
        self.withdraw_pending_invites(&admin_ctx).await?;

        let mut people = HashMap::new();
        people.insert(first.key.clone(), Person { email: first.email.clone(), ctx: admin_ctx });
        let mut people = People(people);
        for u in content.users.iter().filter(|u| u.key != first.key) {
            let admin_ctx = people.ctx(&first.key)?;
            let invite = self
                .invite(
                    admin_ctx.can::<caps::UsersWrite>()?,
                    InviteInput { email: u.email.clone(), role: Some(u.role.clone()) },
                )
                .await?;
            let session = self
                .signup_exchange(
                    &system,
                    SignupInput {
                        token: link_token(&invite.invite_url)?,
                        password: content.password.clone(),
                        name: Some(u.name.clone()),
                        email: None,
                    },
                )
                .await?;
            let ctx = self.session_ctx(&tenant, &session).await?;
            people.0.insert(u.key.clone(), Person { email: u.email.clone(), ctx });
        }

        let mut summary = DemoSummary { users: content.users.len(), ..DemoSummary::default() };
        let admin_ctx = people.ctx(&first.key)?;
        self.save_portal_settings(
            admin_ctx.can::<caps::SettingsManage>()?,
            PortalSettingsInput {
                name: Some(content.portal.name.clone()),
                description: Some(content.portal.description.clone()),
                ..PortalSettingsInput::default()
            },
        )
        .await?;
        let items = self.demo_catalog(&content, &people, &first.key, &mut summary).await?;
        self.demo_knowledge(&content, &articles, &people, &mut summary).await?;
        self.demo_status(&content, &people, &mut summary).await?;
        for r in &content.requests {
            self.demo_request(r, &people, &items, &first.key).await?;
            summary.requests += 1;
        }
        // The demo sessions were only needed to act as each person.
        for p in people.0.values() {
            self.logout(&p.ctx).await?;
        }
        tracing::info!(?summary, "demo data added");
        Ok(DemoOutcome::Seeded { sign_ins: sign_ins(&content), summary })
    }

    /// `Some` when seeding must not run: the organisation has accounts.
    async fn demo_already_there(
        &self,
        tenant: &Tenant,
        content: &Content,
        admin_email: &str,
    ) -> AppResult<Option<DemoOutcome>> {
        let mut r = self.db_for(tenant).read().await?;
        if r.count_users().await? == 0 {
            return Ok(None);
        }
        let email = Email::parse("email", admin_email)?;
        Ok(Some(if r.get_user_by_email(&email).await?.is_some() {
            // Requests are added last: fewer of them (or of the people)
            // means an earlier start stopped half-way.
            let complete = r.count_users().await? >= content.users.len() as i64
                && r.count_requests().await? >= content.requests.len() as i64;
            if complete {
                DemoOutcome::AlreadySeeded { sign_ins: sign_ins(content) }
            } else {
                DemoOutcome::NotAdded {
                    reason: "an earlier --demo start stopped before the demo data was complete, so it is only \
                             partly there; start on an empty data directory for the whole demo"
                        .into(),
                }
            }
        } else {
            DemoOutcome::NotAdded { reason: "the organisation already has accounts".into() }
        }))
    }

    async fn session_ctx(&self, tenant: &Tenant, s: &SessionOut) -> AppResult<Ctx> {
        let ctx = self.context(tenant.clone(), Some(&s.token), false, None, Some("tier0 demo".into())).await?;
        ctx.signed_in()?;
        Ok(ctx)
    }

    async fn withdraw_pending_invites(&self, admin: &Ctx) -> AppResult<()> {
        let pending = self
            .list_invites(admin.can::<caps::UsersRead>()?, InviteListQuery { limit: Some(200), cursor: None })
            .await?;
        for i in pending.items {
            self.revoke_invite(admin.can::<caps::UsersWrite>()?, i.id.as_str()).await?;
        }
        Ok(())
    }

    /// Categories, workflows and items. Returns item ids by name.
    async fn demo_catalog(
        &self,
        c: &Content,
        people: &People,
        admin: &str,
        summary: &mut DemoSummary,
    ) -> AppResult<HashMap<String, String>> {
        let ctx = people.ctx(admin)?;
        let mut categories = HashMap::new();
        for (i, cat) in c.categories.iter().enumerate() {
            let made = self
                .create_category(
                    ctx.can::<caps::CatalogManage>()?,
                    CategoryInput {
                        name: cat.name.clone(),
                        description: Some(cat.description.clone()),
                        position: Some(i as i64 * 10),
                    },
                )
                .await?;
            categories.insert(cat.key.as_str(), made.id.to_string());
        }
        summary.categories = categories.len();
        let mut workflows = HashMap::new();
        for w in &c.workflows {
            let mut stages = Vec::new();
            for approvers in &w.stages {
                let users = approvers.iter().map(|k| people.email(k).map(str::to_owned)).collect::<AppResult<_>>()?;
                stages.push(StageInput {
                    approvers: ApproversInput { users, roles: Vec::new() },
                    rule: Some("any".into()),
                });
            }
            let made = self
                .create_workflow(ctx.can::<caps::CatalogManage>()?, WorkflowInput { name: w.name.clone(), stages })
                .await?;
            workflows.insert(w.key.as_str(), made.id.to_string());
        }
        let mut items = HashMap::new();
        for it in &c.items {
            let category = categories.get(it.category.as_str()).ok_or_else(|| missing("category", &it.category))?;
            let workflow = match &it.workflow {
                Some(w) => Some(workflows.get(w.as_str()).ok_or_else(|| missing("workflow", w))?.clone()),
                None => None,
            };
            let made = self
                .create_catalog_item(
                    ctx.can::<caps::CatalogManage>()?,
                    CatalogItemInput {
                        name: it.name.clone(),
                        description: Some(it.description.clone()),
                        category_id: Some(category.clone()),
                        icon: Some(it.icon.clone()),
                        fields: it.fields.clone(),
                        fulfillment_target_hours: Some(it.target_hours),
                        workflow_definition_id: workflow,
                        visible_to_roles: Vec::new(),
                        published: Some(true),
                    },
                )
                .await?;
            items.insert(it.name.clone(), made.id.to_string());
        }
        summary.catalog_items = items.len();
        Ok(items)
    }

    /// Published articles (some past their review date) and known errors.
    async fn demo_knowledge(
        &self,
        c: &Content,
        articles: &[ArticleContent],
        people: &People,
        summary: &mut DemoSummary,
    ) -> AppResult<()> {
        let author = people.ctx(DEFAULT_OWNER)?;
        let now = self.now();
        for a in articles {
            let owner = people.ctx(&a.owner)?.signed_in()?.user_id().to_string();
            self.create_article(
                author.can::<caps::KbWrite>()?,
                ArticleInput {
                    title: a.title.clone(),
                    body_markdown: Some(a.body.clone()),
                    category: Some(a.category.clone()),
                    tags: Some(a.tags.clone()),
                    review_by: Some(now.plus_secs(a.review_in_days * 86_400).date_string()),
                    owner_id: Some(owner),
                    status: Some("published".into()),
                },
            )
            .await?;
        }
        summary.articles = articles.len();
        for ke in &c.known_errors {
            self.create_known_error(author.can::<caps::KbWrite>()?, ke.clone()).await?;
        }
        summary.known_errors = c.known_errors.len();
        Ok(())
    }

    /// Services, maintenance, notes and announcements.
    async fn demo_status(&self, c: &Content, people: &People, summary: &mut DemoSummary) -> AppResult<()> {
        let ctx = people.ctx(DEFAULT_OWNER)?;
        let mut services = HashMap::new();
        for (i, s) in c.status.services.iter().enumerate() {
            let made = self
                .create_status_service(
                    ctx.can::<caps::StatusManage>()?,
                    ServiceInput {
                        name: s.name.clone(),
                        description: Some(s.description.clone()),
                        state: Some(s.state.clone()),
                        position: Some(i as i64 * 10),
                    },
                )
                .await?;
            services.insert(s.name.as_str(), made.id.to_string());
        }
        summary.services = services.len();
        let service = |name: &str| services.get(name).cloned().ok_or_else(|| missing("status service", name));
        let now = self.now();
        for m in &c.status.maintenance {
            let midnight = now.minus_secs(now.secs().rem_euclid(86_400));
            let start = midnight.plus_hours(m.in_days * 24 + m.at_hour_utc);
            self.create_maintenance(
                ctx.can::<caps::StatusManage>()?,
                MaintenanceInput {
                    title: m.title.clone(),
                    note: Some(m.note.clone()),
                    starts_at: start.to_rfc3339(),
                    ends_at: start.plus_hours(m.duration_hours).to_rfc3339(),
                    service_ids: m.services.iter().map(|s| service(s)).collect::<AppResult<_>>()?,
                },
            )
            .await?;
        }
        for n in &c.status.notes {
            self.create_status_note(
                ctx.can::<caps::StatusManage>()?,
                NoteInput { service_id: service(&n.service)?, body: n.body.clone() },
            )
            .await?;
        }
        for a in &c.status.announcements {
            self.create_announcement(
                ctx.can::<caps::StatusManage>()?,
                AnnouncementInput {
                    body: a.body.clone(),
                    link: a.link.clone(),
                    severity: Some(a.severity.clone()),
                    active_from: None,
                    active_until: None,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// File one request and take it through its steps, each by the person
    /// who would do it.
    async fn demo_request(
        &self,
        r: &RequestContent,
        people: &People,
        items: &HashMap<String, String>,
        admin: &str,
    ) -> AppResult<()> {
        let item = match &r.item {
            Some(name) => Some(items.get(name).ok_or_else(|| missing("catalog item", name))?.clone()),
            None => None,
        };
        let requester = match &r.for_whom {
            Some(k) => Some(people.email(k)?.to_owned()),
            None => None,
        };
        let filed = self
            .create_request(
                people.ctx(&r.by)?.can::<caps::ItsmWrite>()?,
                NewRequestInput {
                    title: r.title.clone(),
                    details: r.details.clone(),
                    requester,
                    catalog_item_id: item,
                    fields: r.fields.as_ref().map(|f| resolve_dates(f, self.now())),
                    priority: r.priority.clone(),
                    also_create_incident: Some(r.also_create_incident),
                },
            )
            .await?;
        let id = filed.request.id.to_string();
        for s in &r.steps {
            let ctx = people.ctx(&s.actor)?;
            let text = s.text.clone();
            match s.action.as_str() {
                "assign" => {
                    let to = people.email(s.to.as_deref().unwrap_or(&s.actor))?.to_owned();
                    self.patch_request(
                        ctx.can::<caps::Fulfill>()?,
                        &id,
                        RequestPatch { assignee: Some(Some(to)), ..RequestPatch::default() },
                    )
                    .await?;
                }
                "transition" => {
                    let to = s.to.clone().ok_or_else(|| AppError::internal("demo transition without `to`"))?;
                    self.transition_request(ctx.can::<caps::ItsmWrite>()?, &id, TransitionInput { to, comment: text })
                        .await?;
                }
                "comment" | "note" => {
                    self.add_comment(
                        ctx.can::<caps::ItsmWrite>()?,
                        &id,
                        CommentInput { body: text.unwrap_or_default(), internal: Some(s.action == "note") },
                    )
                    .await?;
                }
                "approve" | "reject" => {
                    let me = ctx.signed_in()?;
                    let tasks = self
                        .list_approval_tasks(
                            me,
                            ApprovalQuery { state: Some("pending".into()), limit: Some(200), cursor: None },
                        )
                        .await?;
                    let task =
                        tasks.items.iter().find(|t| t.request.id.as_str() == id).ok_or_else(|| {
                            AppError::internal(format!("{:?} has no approval for {}", s.actor, r.title))
                        })?;
                    self.decide_approval(
                        me,
                        task.id.as_str(),
                        DecisionInput { decision: s.action.clone(), comment: text },
                    )
                    .await?;
                }
                other => return Err(AppError::internal(format!("unknown demo step {other:?}"))),
            }
        }
        let done = self.get_request(people.ctx(admin)?.can::<caps::ItsmRead>()?, &id).await?;
        if done.request.status.as_str() != r.expect {
            return Err(AppError::internal(format!(
                "demo request {:?} ended {}, not {}",
                r.title, done.request.status, r.expect
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use tier0_domain::itsm::RequestStatus;

    #[test]
    fn content_parses_and_is_complete() {
        let (c, articles) = load().expect("demo content loads");
        assert!(articles.len() >= 40, "{} articles", articles.len());
        let titles: HashSet<&str> = articles.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles.len(), articles.len(), "article titles are unique");
        assert!(titles.contains("Reset your password"));
        assert!(articles.iter().any(|a| a.review_in_days < 0), "some articles are due for review");
        let keys: HashSet<&str> = c.users.iter().map(|u| u.key.as_str()).collect();
        for a in &articles {
            assert!(keys.contains(a.owner.as_str()), "{}: owner {}", a.title, a.owner);
            assert!(a.body.contains("## "), "{}: has headings", a.title);
            assert!(a.body.contains("1. "), "{}: has numbered steps", a.title);
            assert!(!a.tags.is_empty(), "{}: has tags", a.title);
        }
        assert!(c.items.len() >= 15);
        let cats: HashSet<&str> = c.items.iter().map(|i| i.category.as_str()).collect();
        assert!(cats.len() >= 5);
        assert!(c.items.iter().any(|i| i.name == "Request VPN access"));
        assert_eq!(keys.len(), c.users.len(), "user keys are unique");
        for role in ["requester", "fulfiller", "operator", "admin"] {
            assert!(c.users.iter().any(|u| u.role == role), "a {role}");
        }
        let ended: HashSet<&str> = c.requests.iter().map(|r| r.expect.as_str()).collect();
        for s in RequestStatus::ALL {
            assert!(ended.contains(s.as_str()), "a request ends {s}");
        }
        assert!(c.status.services.iter().any(|s| s.state == "degraded"));
    }

    #[test]
    fn the_demo_password_passes_the_policy_for_everyone() {
        let (c, _) = load().expect("demo content loads");
        for u in &c.users {
            crate::auth::password::check_policy("password", &c.password, &[&u.email, &u.name])
                .unwrap_or_else(|e| panic!("{}: {e:?}", u.email));
        }
    }

    #[test]
    fn relative_dates_in_form_values() {
        let now = tier0_domain::Timestamp::parse_rfc3339("2026-03-01T10:00:00Z").unwrap();
        let v = serde_json::json!({"a": "today+3", "b": ["today-1", "today"], "c": "todays", "d": 2});
        assert_eq!(
            resolve_dates(&v, now),
            serde_json::json!({"a": "2026-03-04", "b": ["2026-02-28", "2026-03-01"], "c": "todays", "d": 2})
        );
    }

    #[test]
    fn articles_format() {
        let text = "Editors' notes.\n\n# One\ncategory: A\ntags: x, y\nreview_in_days: -3\n\n## Steps\n\n1. Do\n\n```\n# not a title\n```\n\n# Two\ncategory: B\nowner: admin\n\nBody.\n";
        let a = parse_articles(text).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].title, "One");
        assert_eq!(a[0].tags, vec!["x", "y"]);
        assert_eq!(a[0].review_in_days, -3);
        assert!(a[0].body.contains("# not a title"));
        assert_eq!((a[1].owner.as_str(), a[1].review_in_days, a[1].body.as_str()), ("admin", 180, "Body."));
        assert!(parse_articles("# X\ncolour: red\n\nBody").is_err());
        assert!(parse_articles("# X\ntags: a\n\n").is_err());
    }
}
