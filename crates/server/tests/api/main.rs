//! The HTTP integration suite: one binary, every test run on SQLite and
//! (with TIER0_TEST_POSTGRES_URL) on PostgreSQL through `dual_test!`.

mod foundation;
mod identity;
mod portal;

// Service catalog, requests and approvals (SPEC §5).
mod approvals;
mod catalog;
mod demo;
mod itsm_support;
mod knowledge;
mod request_pages;
mod requests;

// Hostile input and hostile callers.
mod security;
