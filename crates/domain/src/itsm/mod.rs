//! Service catalog, requests, approvals and incidents (SPEC §5): the rules
//! that do not need a database.
//!
//! - [`request`]: request statuses, priorities, titles and the one state
//!   machine that decides which transitions exist and who may take them.
//! - [`form`]: catalog form fields and validation of submitted values.
//! - [`workflow`]: approval workflow stages and how a stage's decisions
//!   combine.
//! - [`attachment`]: file name sanitising and the content types served.
//! - [`incident`]: incident statuses.
//! - [`records`]: the records the store returns and the API shows.

pub mod attachment;
pub mod form;
pub mod incident;
pub mod records;
pub mod request;
pub mod workflow;

pub use attachment::{sanitize_filename, served_content_type};
pub use form::{FieldType, FormField, FormFieldInput};
pub use incident::IncidentStatus;
pub use request::{Lifecycle, Party, Priority, RequestStatus, RequestTitle, TransitionError};
pub use workflow::{ApprovalRule, ApprovalState, DecisionState, StageOutcome};
