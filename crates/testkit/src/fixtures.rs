//! Users and tenants for tests, created through the public API.

use crate::{Client, TestApp};
use serde_json::json;

/// A signed-in user: `api` carries a bearer token.
#[derive(Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub role: String,
    pub token: String,
    pub api: Client,
}

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple 42";

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A unique e-mail address.
pub fn unique_email(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{n}@example.com")
}

impl TestApp {
    /// Register the first admin of the default tenant.
    pub async fn admin(&self) -> TestUser {
        register_admin(&self.client()).await
    }

    /// Invite a user with `role` through `admin`, and sign them up.
    pub async fn user(&self, admin: &TestUser, role: &str) -> TestUser {
        invite_user(admin, role, &unique_email(role)).await
    }

    /// A new tenant with its first admin signed up. Returns the admin.
    pub async fn tenant(&self, slug: &str) -> TestUser {
        let (_, url) = self.app.create_tenant(slug, &format!("{slug} Inc")).await.expect("tenant created");
        let token = url.split("token=").nth(1).expect("token in invite url").to_owned();
        let client = self.client_for(slug);
        let email = unique_email(&format!("admin-{slug}-"));
        let r = client
            .post(
                "/api/auth/signup-exchange",
                json!({"token": token, "password": PASSWORD, "name": "Tenant Admin", "email": email}),
            )
            .await;
        r.expect(201);
        let body = r.json();
        let token = body["token"].as_str().expect("session token").to_owned();
        TestUser {
            id: body["user"]["id"].as_str().unwrap_or_default().to_owned(),
            email,
            password: PASSWORD.into(),
            role: "admin".into(),
            api: client.with_token(&token),
            token,
        }
    }
}

/// `POST /api/auth/register` on an empty tenant.
pub async fn register_admin(client: &Client) -> TestUser {
    let email = unique_email("admin");
    let r = client.post("/api/auth/register", json!({"email": email, "password": PASSWORD, "name": "Ada Admin"})).await;
    r.expect(201);
    let body = r.json();
    let token = body["token"].as_str().expect("token").to_owned();
    TestUser {
        id: body["user"]["id"].as_str().unwrap_or_default().to_owned(),
        email,
        password: PASSWORD.into(),
        role: "admin".into(),
        api: client.with_token(&token),
        token,
    }
}

/// Invite `email` as `role` and complete sign-up.
pub async fn invite_user(admin: &TestUser, role: &str, email: &str) -> TestUser {
    let r = admin.api.post("/api/auth/invite", json!({"email": email, "role": role})).await;
    r.expect(201);
    let url = r.json()["invite_url"].as_str().expect("invite_url").to_owned();
    let token = url.split("token=").nth(1).expect("token").to_owned();
    let anon = admin.api.fresh();
    let r = anon
        .post(
            "/api/auth/signup-exchange",
            json!({"token": token, "password": PASSWORD, "name": format!("{role} user")}),
        )
        .await;
    r.expect(201);
    let body = r.json();
    let token = body["token"].as_str().expect("token").to_owned();
    TestUser {
        id: body["user"]["id"].as_str().unwrap_or_default().to_owned(),
        email: email.to_owned(),
        password: PASSWORD.into(),
        role: role.to_owned(),
        api: anon.with_token(&token),
        token,
    }
}
