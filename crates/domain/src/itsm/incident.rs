//! Incidents (`INC-n`): an unplanned interruption, possibly raised from a
//! request ("also create an incident").

use crate::ValidationError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    New,
    InProgress,
    Resolved,
    Closed,
}

impl IncidentStatus {
    pub const ALL: [IncidentStatus; 4] = [Self::New, Self::InProgress, Self::Resolved, Self::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::InProgress => "in_progress",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::New => "New",
            Self::InProgress => "In progress",
            Self::Resolved => "Resolved",
            Self::Closed => "Closed",
        }
    }

    pub fn from_str_opt(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn parse(field: &str, s: &str) -> Result<Self, ValidationError> {
        Self::from_str_opt(s.trim())
            .ok_or_else(|| ValidationError::field(field, "must be one of new, in_progress, resolved, closed"))
    }
}
