//! Requests: status, priority, title, and the request state machine.
//!
//! The whole lifecycle of SPEC §5 lives in [`EDGES`]: every transition
//! that exists and the parties allowed to take it. [`Lifecycle::transition`]
//! is the only way to change a status; it also keeps `resolved_at` and
//! `closed_at` coherent with the status.

use crate::{PlainText, Timestamp, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long after resolution a requester may reopen their request.
pub const REOPEN_WINDOW_SECS: i64 = 7 * 24 * 3600;

/// Maximum length of a request title (characters, after trimming).
pub const MAX_TITLE_CHARS: usize = 200;
/// Maximum length of a request's details.
pub const MAX_DETAILS_CHARS: usize = 20_000;
/// Maximum length of a comment.
pub const MAX_COMMENT_CHARS: usize = 20_000;

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    New,
    PendingApproval,
    Open,
    InProgress,
    WaitingOnCustomer,
    Resolved,
    Closed,
    Rejected,
    Cancelled,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 9] = [
        Self::New,
        Self::PendingApproval,
        Self::Open,
        Self::InProgress,
        Self::WaitingOnCustomer,
        Self::Resolved,
        Self::Closed,
        Self::Rejected,
        Self::Cancelled,
    ];

    /// Statuses in which work is still outstanding (the "active" queue and
    /// the SLA's "overdue" apply to these).
    pub const ACTIVE: [RequestStatus; 5] =
        [Self::New, Self::PendingApproval, Self::Open, Self::InProgress, Self::WaitingOnCustomer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::PendingApproval => "pending_approval",
            Self::Open => "open",
            Self::InProgress => "in_progress",
            Self::WaitingOnCustomer => "waiting_on_customer",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    /// For people: "In progress".
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::PendingApproval => "Pending approval",
            Self::Open => "Open",
            Self::InProgress => "In progress",
            Self::WaitingOnCustomer => "Waiting on you",
            Self::Resolved => "Resolved",
            Self::Closed => "Closed",
            Self::Rejected => "Rejected",
            Self::Cancelled => "Cancelled",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Parse a client value; unknown values are a validation error on `field`.
    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::from_str_opt(s.trim()).ok_or_else(|| {
            ValidationError::field(
                field,
                format!("must be one of {}", Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
            )
        })
    }

    /// No transition leaves these.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Closed | Self::Rejected | Self::Cancelled)
    }

    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// On whose authority a transition is taken. A caller may act as several
/// parties at once (an agent who is also the requester).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The person the request is for.
    Requester,
    /// Anyone holding `itsm:fulfill`.
    Fulfiller,
    /// The system: approval outcomes, a requester's reply, auto-close.
    System,
}

use Party::{Fulfiller as F, Requester as R, System as S};
use RequestStatus::*;

/// Every transition that exists, with who may take it (SPEC §5):
/// `new → pending_approval → open → in_progress ⇄ waiting_on_customer →
/// resolved → closed`, plus `rejected` and `cancelled`. The requester may
/// cancel, mark resolved, and reopen within [`REOPEN_WINDOW_SECS`]; a
/// requester's reply on `waiting_on_customer` resumes work (System).
pub const EDGES: &[(RequestStatus, RequestStatus, &[Party])] = &[
    // Approval: the workflow starts it and its outcome ends it.
    (New, PendingApproval, &[S]),
    (PendingApproval, Open, &[S]),
    (PendingApproval, Rejected, &[S]),
    (PendingApproval, Cancelled, &[R, F]),
    // Triage and work.
    (New, Open, &[F]),
    (New, InProgress, &[F]),
    (New, WaitingOnCustomer, &[F]),
    (New, Resolved, &[R, F]),
    (New, Cancelled, &[R, F]),
    (Open, InProgress, &[F]),
    (Open, WaitingOnCustomer, &[F]),
    (Open, Resolved, &[R, F]),
    (Open, Cancelled, &[R, F]),
    (InProgress, Open, &[F]),
    (InProgress, WaitingOnCustomer, &[F]),
    (InProgress, Resolved, &[R, F]),
    (InProgress, Cancelled, &[R, F]),
    (WaitingOnCustomer, InProgress, &[F, S]),
    (WaitingOnCustomer, Open, &[F]),
    (WaitingOnCustomer, Resolved, &[R, F]),
    (WaitingOnCustomer, Cancelled, &[R, F]),
    // After resolution: close, or reopen (requesters within the window).
    (Resolved, Closed, &[F, S]),
    (Resolved, Open, &[R, F]),
    (Resolved, InProgress, &[F]),
];

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a request cannot move from {from} to {to}")]
    Illegal { from: RequestStatus, to: RequestStatus },
    #[error("a resolved request can be reopened by its requester only within 7 days of resolution")]
    ReopenWindowPassed,
}

/// A request's status with the timestamps that must agree with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifecycle {
    pub status: RequestStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set on entering `resolved`, cleared when reopened, kept when closed.
    pub resolved_at: Option<Timestamp>,
    /// Set on entering a terminal status.
    pub closed_at: Option<Timestamp>,
}

impl Lifecycle {
    /// A brand-new request.
    pub fn new(now: Timestamp) -> Self {
        Self { status: New, created_at: now, updated_at: now, resolved_at: None, closed_at: None }
    }

    /// Whether `party` may move this request to `to` at `now`.
    fn allows(&self, party: Party, to: RequestStatus, now: Timestamp) -> bool {
        let edge = EDGES.iter().any(|(f, t, who)| *f == self.status && *t == to && who.contains(&party));
        if !edge {
            return false;
        }
        if party == R && self.status == Resolved && to.is_active() {
            return self.within_reopen_window(now);
        }
        true
    }

    fn within_reopen_window(&self, now: Timestamp) -> bool {
        self.resolved_at.is_some_and(|at| now.millis() - at.millis() <= REOPEN_WINDOW_SECS * 1000)
    }

    /// The statuses any of `parties` may move this request to now, in the
    /// order of [`RequestStatus::ALL`].
    pub fn allowed(&self, parties: &[Party], now: Timestamp) -> Vec<RequestStatus> {
        RequestStatus::ALL.into_iter().filter(|to| parties.iter().any(|p| self.allows(*p, *to, now))).collect()
    }

    /// Move to `to` on behalf of `parties` (allowed if any of them may).
    pub fn transition(
        &self,
        to: RequestStatus,
        parties: &[Party],
        now: Timestamp,
    ) -> Result<Lifecycle, TransitionError> {
        if !parties.iter().any(|p| self.allows(*p, to, now)) {
            let requester_reopen = parties.contains(&R)
                && self.status == Resolved
                && to.is_active()
                && EDGES.iter().any(|(f, t, who)| *f == Resolved && *t == to && who.contains(&R));
            return Err(if requester_reopen {
                TransitionError::ReopenWindowPassed
            } else {
                TransitionError::Illegal { from: self.status, to }
            });
        }
        // Never let time run backwards on a record, even if node clocks differ.
        let at = now.max(self.updated_at);
        let mut next = *self;
        next.status = to;
        next.updated_at = at;
        if to == Resolved {
            next.resolved_at = Some(at);
        } else if to.is_active() {
            next.resolved_at = None;
        }
        if to.is_terminal() {
            next.closed_at = Some(at);
        }
        debug_assert_eq!(next.check(), Ok(()));
        Ok(next)
    }

    /// The invariants every reachable lifecycle satisfies.
    pub fn check(&self) -> Result<(), String> {
        let s = self.status;
        if self.resolved_at.is_some() != matches!(s, Resolved | Closed) {
            return Err(format!("resolved_at {:?} disagrees with status {s}", self.resolved_at));
        }
        if self.closed_at.is_some() != s.is_terminal() {
            return Err(format!("closed_at {:?} disagrees with status {s}", self.closed_at));
        }
        let mut last = self.created_at;
        for t in [self.resolved_at, self.closed_at].into_iter().flatten() {
            if t < last {
                return Err("timestamps run backwards".into());
            }
            last = t;
        }
        if self.updated_at < last {
            return Err("updated_at precedes another timestamp".into());
        }
        Ok(())
    }
}

/// How urgent a request is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Low, Self::Normal, Self::High, Self::Urgent];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Normal => "Normal",
            Self::High => "High",
            Self::Urgent => "Urgent",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Absent or empty → `normal`; anything else must be a priority.
    pub fn parse_opt(field: &str, s: Option<&str>) -> Result<Self, ValidationError> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Self::Normal),
            Some(v) => Self::from_str_opt(v)
                .ok_or_else(|| ValidationError::field(field, "must be one of low, normal, high, urgent")),
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request title: 1–200 characters after trimming, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTitle(String);

impl RequestTitle {
    pub fn parse(field: &str, input: &str) -> Result<Self, ValidationError> {
        let t = PlainText::parse(field, input, 1, MAX_TITLE_CHARS)?;
        if t.0.contains(['\n', '\r', '\t']) {
            return Err(ValidationError::field(field, "must be a single line"));
        }
        Ok(Self(t.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_millis(s * 1000)
    }

    #[test]
    fn spec_paths() {
        let l = Lifecycle::new(t(0));
        let l = l.transition(PendingApproval, &[S], t(1)).unwrap();
        let l = l.transition(Open, &[S], t(2)).unwrap();
        let l = l.transition(InProgress, &[F], t(3)).unwrap();
        let l = l.transition(WaitingOnCustomer, &[F], t(4)).unwrap();
        let l = l.transition(InProgress, &[S], t(5)).unwrap();
        let l = l.transition(Resolved, &[F], t(6)).unwrap();
        assert_eq!(l.resolved_at, Some(t(6)));
        let l = l.transition(Closed, &[F], t(7)).unwrap();
        assert_eq!((l.resolved_at, l.closed_at), (Some(t(6)), Some(t(7))));
        assert!(l.allowed(&[R, F, S], t(8)).is_empty());
    }

    #[test]
    fn requester_rights() {
        let open = Lifecycle::new(t(0)).transition(Open, &[F], t(1)).unwrap();
        assert_eq!(open.allowed(&[R], t(2)), vec![Resolved, Cancelled]);
        assert!(matches!(open.transition(InProgress, &[R], t(2)), Err(TransitionError::Illegal { .. })));
        let pending = Lifecycle::new(t(0)).transition(PendingApproval, &[S], t(1)).unwrap();
        // Nobody but the approval outcome opens or rejects a pending request.
        assert_eq!(pending.allowed(&[R, F], t(2)), vec![Cancelled]);
        let resolved = open.transition(Resolved, &[R], t(10)).unwrap();
        let week = REOPEN_WINDOW_SECS;
        assert_eq!(resolved.transition(Open, &[R], t(10 + week)).unwrap().status, Open);
        assert_eq!(resolved.transition(Open, &[R], t(11 + week)), Err(TransitionError::ReopenWindowPassed));
        // An agent may reopen later.
        assert_eq!(resolved.transition(Open, &[R, F], t(11 + week)).unwrap().resolved_at, None);
        assert!(resolved.transition(Closed, &[R], t(12)).is_err());
        assert!(resolved.transition(Cancelled, &[R, F], t(12)).is_err());
    }

    #[test]
    fn titles() {
        assert!(RequestTitle::parse("title", "  ").is_err());
        assert!(RequestTitle::parse("title", &"x".repeat(201)).is_err());
        assert_eq!(
            RequestTitle::parse("title", &format!("  {}  ", "é".repeat(200))).unwrap().as_str().chars().count(),
            200
        );
        assert!(RequestTitle::parse("title", "two\nlines").is_err());
        assert_eq!(Priority::parse_opt("priority", None).unwrap(), Priority::Normal);
        assert!(Priority::parse_opt("priority", Some("critical")).is_err());
    }

    fn any_status() -> impl Strategy<Value = RequestStatus> {
        prop::sample::select(RequestStatus::ALL.to_vec())
    }

    /// Every status is reachable from `new` by allowed transitions.
    #[test]
    fn every_status_is_reachable() {
        let mut seen = vec![New];
        let mut frontier = vec![Lifecycle::new(t(0))];
        while let Some(l) = frontier.pop() {
            for to in l.allowed(&[R, F, S], t(1)) {
                if !seen.contains(&to) {
                    seen.push(to);
                    frontier.push(l.transition(to, &[R, F, S], t(1)).unwrap());
                }
            }
        }
        assert_eq!(seen.len(), RequestStatus::ALL.len(), "{seen:?}");
    }

    fn any_parties() -> impl Strategy<Value = Vec<Party>> {
        prop::sample::subsequence(vec![R, F, S], 1..=3)
    }

    proptest! {
        /// No sequence of transitions — allowed ones applied, refused ones
        /// ignored — ever leaves a request inconsistent, and terminal
        /// statuses stay terminal.
        #[test]
        fn no_sequence_breaks_invariants(
            steps in prop::collection::vec((any::<usize>(), any::<bool>(), any_parties(), -5_000i64..1_000_000), 0..80)
        ) {
            let mut l = Lifecycle::new(t(1_000));
            let mut clock = 1_000i64;
            for (pick, follow, parties, dt) in steps {
                clock += dt; // may go backwards a little: skewed node clocks
                let before = l;
                // Half the steps try an allowed move, the others anything.
                let allowed = before.allowed(&parties, t(clock));
                let to = if follow && !allowed.is_empty() {
                    allowed[pick % allowed.len()]
                } else {
                    RequestStatus::ALL[pick % RequestStatus::ALL.len()]
                };
                match l.transition(to, &parties, t(clock)) {
                    Ok(next) => {
                        prop_assert!(!before.status.is_terminal(), "left terminal {}", before.status);
                        prop_assert!(before.allowed(&parties, t(clock)).contains(&to));
                        prop_assert_eq!(next.status, to);
                        prop_assert!(next.updated_at >= before.updated_at);
                        prop_assert_eq!(next.created_at, before.created_at);
                        l = next;
                    }
                    Err(_) => {
                        prop_assert!(!before.allowed(&parties, t(clock)).contains(&to));
                    }
                }
                prop_assert_eq!(l.check(), Ok(()));
            }
        }

        /// `allowed` and `transition` agree for every state and party set.
        #[test]
        fn allowed_matches_transition(from in any_status(), to in any_status(), parties in any_parties(), age in 0i64..1_000_000) {
            let mut l = Lifecycle::new(t(0));
            l.status = from;
            if matches!(from, Resolved | Closed) { l.resolved_at = Some(t(0)); }
            if from.is_terminal() { l.closed_at = Some(t(0)); }
            let ok = l.transition(to, &parties, t(age)).is_ok();
            prop_assert_eq!(ok, l.allowed(&parties, t(age)).contains(&to));
        }
    }
}
