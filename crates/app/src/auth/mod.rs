//! Identity and access (SPEC §4): sessions, sign-in, invites, password
//! reset, profile and 2FA, users, roles and the audit log.

pub mod accounts;
pub mod password;
pub mod profile;
pub mod roles;
pub mod sessions;
pub mod token;
pub mod totp;
pub mod users;

pub use sessions::{LoginInput, LoginStep, SessionOut};
