//! An HTTP client bound to one tenant host, with an optional bearer token
//! and a cookie jar (for page tests).

use reqwest::Method;
use serde_json::Value;
use std::net::SocketAddr;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    addr: SocketAddr,
    host: Option<String>,
    token: Option<String>,
    headers: Vec<(String, String)>,
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// `error.code` of a SPEC §3 error body.
    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// Assert the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.text);
        self
    }

    /// Assert an error status and code.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code().as_str()), (status, code), "body: {}", self.text);
        self
    }
}

impl Client {
    pub fn new(addr: SocketAddr, host: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("http client");
        Self { http, addr, host, token: None, headers: Vec::new() }
    }

    /// The same host with a bearer token (and a fresh cookie jar).
    pub fn with_token(&self, token: &str) -> Self {
        let mut c = Self::new(self.addr, self.host.clone());
        c.token = Some(token.to_owned());
        c
    }

    /// A copy that sends an extra header on every request.
    pub fn with_header(&self, name: &str, value: &str) -> Self {
        let mut c = self.clone();
        c.headers.push((name.to_owned(), value.to_owned()));
        c
    }

    /// The same host, anonymous, with its own cookie jar.
    pub fn fresh(&self) -> Self {
        Self::new(self.addr, self.host.clone())
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn host(&self) -> String {
        self.host.clone().unwrap_or_else(|| format!("127.0.0.1:{}", self.addr.port()))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.addr.port(), path)
    }

    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.http.request(method, self.url(path));
        if let Some(h) = &self.host {
            rb = rb.header(reqwest::header::HOST, h);
        }
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        for (k, v) in &self.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let res = rb.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        Resp { status, headers, text }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::PATCH, path).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::PUT, path).json(&body)).await
    }

    /// POST a URL-encoded form (as a browser without JavaScript would).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(self.request(Method::POST, path).form(fields)).await
    }
}
