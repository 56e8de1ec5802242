//! Approval workflows: ordered stages, each with approvers (users and
//! roles) and a rule. A stage with rule `any` is approved by the first
//! approval; with `all`, by every approver. Any rejection rejects the
//! request. Stages run one after another; when the last is approved the
//! request opens.

use crate::{PlainText, ValidationError};
use serde::{Deserialize, Serialize};

pub const MAX_STAGES: usize = 10;
/// Users plus roles listed on one stage.
pub const MAX_APPROVERS_PER_STAGE: usize = 50;
pub const MAX_WORKFLOW_NAME_CHARS: usize = 100;

/// How a stage's decisions combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRule {
    /// One approval completes the stage.
    Any,
    /// Every approver must approve.
    All,
}

impl ApprovalRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "any",
            Self::All => "all",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        match s.trim() {
            "" | "any" => Ok(Self::Any),
            "all" => Ok(Self::All),
            _ => Err(ValidationError::field(field, "must be any or all")),
        }
    }
}

/// One approver's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionState {
    /// Waiting for this approver.
    Pending,
    Approved,
    Rejected,
    /// No longer needed: the stage or the request was settled otherwise.
    Skipped,
}

impl DecisionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Skipped => "skipped",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Skipped].into_iter().find(|d| d.as_str() == s)
    }
}

/// The state of a request's approval as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalState {
    Pending,
    Approved,
    Rejected,
    /// The request was cancelled while approval was pending.
    Cancelled,
}

impl ApprovalState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected, Self::Cancelled].into_iter().find(|d| d.as_str() == s)
    }
}

/// What a stage's decisions add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    Pending,
    Approved,
    Rejected,
}

/// Combine one stage's decisions under `rule`. Skipped decisions count
/// neither way. A stage with no decisions at all is still pending.
pub fn stage_outcome(rule: ApprovalRule, decisions: &[DecisionState]) -> StageOutcome {
    if decisions.contains(&DecisionState::Rejected) {
        return StageOutcome::Rejected;
    }
    let live: Vec<_> = decisions.iter().filter(|d| **d != DecisionState::Skipped).collect();
    let approved = live.iter().filter(|d| ***d == DecisionState::Approved).count();
    match rule {
        ApprovalRule::Any if approved > 0 => StageOutcome::Approved,
        ApprovalRule::All if !live.is_empty() && approved == live.len() => StageOutcome::Approved,
        _ => StageOutcome::Pending,
    }
}

/// A stage as a client sends it: approvers by user (id or e-mail) and by
/// role (name or id). Resolving them to this tenant's users and roles is
/// the app's job; this only checks the shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StageInput {
    #[serde(default)]
    pub approvers: ApproversInput,
    /// `any` (default) or `all`.
    #[serde(default)]
    pub rule: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApproversInput {
    /// User ids or e-mail addresses.
    #[serde(default)]
    pub users: Vec<String>,
    /// Role names or ids.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// A stage whose shape is valid: trimmed, de-duplicated references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageShape {
    pub users: Vec<String>,
    pub roles: Vec<String>,
    pub rule: ApprovalRule,
}

/// Check a workflow's name and stages. Errors are keyed `name`, `stages`
/// and `stages[i].approvers` / `stages[i].rule`.
pub fn parse_workflow(name: &str, stages: &[StageInput]) -> Result<(String, Vec<StageShape>), ValidationError> {
    let mut err = ValidationError::new();
    let name = err.collect(PlainText::parse("name", name, 1, MAX_WORKFLOW_NAME_CHARS)).map(|t| t.0);
    if stages.is_empty() {
        err.add("stages", "needs at least one stage");
    } else if stages.len() > MAX_STAGES {
        err.add("stages", format!("may have at most {MAX_STAGES} stages"));
    }
    let mut out = Vec::new();
    for (i, s) in stages.iter().enumerate() {
        let rule = err.collect(ApprovalRule::parse(&format!("stages[{i}].rule"), s.rule.as_deref().unwrap_or("")));
        let clean = |v: &[String]| {
            let mut o: Vec<String> = Vec::new();
            for x in v.iter().map(|x| x.trim()).filter(|x| !x.is_empty()) {
                if !o.iter().any(|y| y == x) {
                    o.push(x.chars().take(300).collect());
                }
            }
            o
        };
        let users = clean(&s.approvers.users);
        let roles = clean(&s.approvers.roles);
        let field = format!("stages[{i}].approvers");
        if users.is_empty() && roles.is_empty() {
            err.add(field, "name at least one approving user or role");
        } else if users.len() + roles.len() > MAX_APPROVERS_PER_STAGE {
            err.add(field, format!("may list at most {MAX_APPROVERS_PER_STAGE} users and roles"));
        } else if let Some(rule) = rule {
            out.push(StageShape { users, roles, rule });
        }
    }
    err.into_result()?;
    Ok((name.unwrap_or_default(), out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecisionState::*;
    use proptest::prelude::*;

    #[test]
    fn outcomes() {
        assert_eq!(stage_outcome(ApprovalRule::Any, &[Pending, Approved]), StageOutcome::Approved);
        assert_eq!(stage_outcome(ApprovalRule::All, &[Pending, Approved]), StageOutcome::Pending);
        assert_eq!(stage_outcome(ApprovalRule::All, &[Approved, Approved]), StageOutcome::Approved);
        assert_eq!(stage_outcome(ApprovalRule::All, &[Approved, Rejected]), StageOutcome::Rejected);
        assert_eq!(stage_outcome(ApprovalRule::Any, &[]), StageOutcome::Pending);
        assert_eq!(stage_outcome(ApprovalRule::All, &[]), StageOutcome::Pending);
    }

    #[test]
    fn shapes() {
        let s = |u: &[&str], r: &[&str], rule: &str| StageInput {
            approvers: ApproversInput {
                users: u.iter().map(|x| (*x).into()).collect(),
                roles: r.iter().map(|x| (*x).into()).collect(),
            },
            rule: Some(rule.into()),
        };
        let (name, st) = parse_workflow(" Manager ", &[s(&["a@b.co", "a@b.co"], &[], "all")]).unwrap();
        assert_eq!((name.as_str(), st[0].users.len(), st[0].rule), ("Manager", 1, ApprovalRule::All));
        let e = parse_workflow("", &[s(&[], &[], "any"), s(&["x"], &[], "most")]).unwrap_err();
        for k in ["name", "stages[0].approvers", "stages[1].rule"] {
            assert!(e.fields.contains_key(k), "{k}: {e:?}");
        }
        assert!(parse_workflow("x", &[]).is_err());
    }

    fn any_decision() -> impl Strategy<Value = DecisionState> {
        prop::sample::select(vec![Pending, Approved, Rejected, Skipped])
    }

    proptest! {
        /// A rejection always wins; `all` never approves before `any` would.
        #[test]
        fn rules_are_consistent(d in prop::collection::vec(any_decision(), 0..8)) {
            let any = stage_outcome(ApprovalRule::Any, &d);
            let all = stage_outcome(ApprovalRule::All, &d);
            if d.contains(&Rejected) {
                prop_assert_eq!((any, all), (StageOutcome::Rejected, StageOutcome::Rejected));
            }
            if all == StageOutcome::Approved {
                prop_assert_eq!(any, StageOutcome::Approved);
            }
            if !d.contains(&Approved) {
                prop_assert!(any != StageOutcome::Approved && all != StageOutcome::Approved);
            }
        }
    }
}
