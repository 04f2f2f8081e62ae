//! The domain model: reports, claims, sources, quantities, places and times. Every type here is
//! valid by construction or checked once at the boundary (`crate::wire`).

mod claim;
mod ids;
mod place;
mod quantity;
mod report;
mod source;
mod text;
mod time;

pub use claim::{Assertion, AttackOutcome, Cause, Claim, FieldKey, FieldRef, Harm, Party, Stance};
pub use ids::{ActorId, IncidentId, ReportId, SourceId};
pub use place::{
    fold_name, normalise_name, region_key, Coordinates, CountryCode, Location, PlacePrecision,
};
pub use quantity::{Contribution, Quantity, VagueWord};
pub use report::{EventFamily, EventType, IncidentRef, Report, Target};
pub use source::{Source, SourceKind};
pub use text::{Name, Url};
pub use time::{TimePrecision, Timestamp, DAY_MS, HOUR_MS};
